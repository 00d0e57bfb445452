// The Functions app: the worker loads this file (package.json "main"), and it registers every
// event route and /api/health. Settings (ENTRA_TENANT_ID, ENTRA_AUDIENCE, MAIL_PROVIDER, …) are
// the app settings; without ENTRA_TENANT_ID every call answers 500 ERR_CONFIG_INVALID.
import { app } from '@azure/functions'
import { createEvents } from './events.js'
import roles from './roles.json' with { type: 'json' }

createEvents({ roles }).register(app)
