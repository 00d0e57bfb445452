// The product's own Functions app (package.json "main"): the declarative handlers of
// EXTENSION_CONFIG, registered through the same public API a user's code handlers go through.
import { app } from '@azure/functions'
import { authenticationEvents } from './index.js'

authenticationEvents().register(app)
