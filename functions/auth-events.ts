// Registers the endpoint with the Azure Functions host (v4 model). package.json "main" points here
// (built to dist/functions/). The bearer token is the authentication (src/auth/verify-caller.ts),
// so the functions are anonymous: no function key in Entra's targetUrl (contract §7.1).
import { app } from '@azure/functions'
import { EVENT_ROUTE_NAMES } from '../src/events/routes.js'
import { createJsonLogger } from '../src/log.js'
import { telemetryFromEnvironment } from '../src/telemetry/azure-monitor.js'
import { eventHandler, healthHandler, startEndpoint } from './endpoint-handlers.js'

const log = createJsonLogger((line) => process.stderr.write(line))
// Azure Monitor only when APPLICATIONINSIGHTS_CONNECTION_STRING is set (src/telemetry/azure-monitor.ts).
const telemetry = await telemetryFromEnvironment(process.env, log)
const endpoint = startEndpoint(process.env, log, telemetry)

for (const route of EVENT_ROUTE_NAMES) {
  // Every method is routed to the pipeline, which answers 405 with a JSON body for non-POST.
  app.http(route, {
    route,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
    authLevel: 'anonymous',
    handler: eventHandler(endpoint, route),
  })
}
app.http('health', {
  route: 'health',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: healthHandler(endpoint),
})
