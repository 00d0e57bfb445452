// The package's entry point (`import { authenticationEvents } from 'entra-auth-extension'`): the
// host-neutral API of src/api plus register(app) for Azure Functions (v4 programming model).
import type { app as functionsApp } from '@azure/functions'
import {
  createAuthenticationEvents,
  INTERNALS,
  type AuthenticationEventsOptions,
  type EventMethods,
  type EventsCore,
} from '../src/api/authentication-events.js'
import type { CodeHandlerOf } from '../src/events/code-handler.js'
import { EVENT_ROUTE_NAMES, type EventOf, type EventRoute } from '../src/events/routes.js'
import { telemetryFromEnvironment } from '../src/telemetry/azure-monitor.js'
import { eventHandler, healthHandler, startEndpoint } from './endpoint-handlers.js'

/** The parts of `app` from '@azure/functions' that register() uses. */
export type FunctionsApp = Pick<typeof functionsApp, 'http' | 'setup'>

export interface AuthenticationEvents extends EventMethods<AuthenticationEvents>, EventsCore {
  /**
   * Registers every event route (POST /api/<event>, anonymous: Entra's bearer token is the
   * authentication) and GET /api/health with the Functions host, streaming request bodies so the
   * token is checked before the body is read. Never in dev mode: without ENTRA_TENANT_ID every
   * call answers 500 ERR_CONFIG_INVALID, and the problems are logged.
   */
  register(app: FunctionsApp): void
}

export function authenticationEvents(
  options: AuthenticationEventsOptions = {},
): AuthenticationEvents {
  const core = createAuthenticationEvents({ ...options, env: options.env ?? process.env })
  const register = (app: FunctionsApp) => {
    const { env, log, take } = core[INTERNALS]
    const code = take()
    app.setup({ enableHttpStream: true })
    // Azure Monitor only when APPLICATIONINSIGHTS_CONNECTION_STRING is set; the endpoint is built
    // once it is ready, and calls wait for it (it never throws: see startEndpoint).
    const endpoint = telemetryFromEnvironment(env, log).then((telemetry) =>
      startEndpoint(env, log, telemetry, code),
    )
    for (const route of EVENT_ROUTE_NAMES) {
      // Every method reaches the pipeline, which answers 405 with a JSON body for non-POST.
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
  }
  return Object.assign(core, { register }) as unknown as AuthenticationEvents
}

export type {
  AuthenticationEventsOptions,
  ServeOptions,
  ServingEndpoint,
} from '../src/api/authentication-events.js'
export type { CodeContext, EventView } from '../src/events/event.js'
export type { CodeHandlerOf } from '../src/events/code-handler.js'
/** An event's name, as its handler method is named: 'onTokenIssuanceStart', … */
export type EventName = EventRoute
/**
 * The handler of event N, for a handler written apart from its registration:
 * `const claims: HandlerOf<'onTokenIssuanceStart'> = async (event, ctx) => …`.
 */
export type HandlerOf<N extends EventName> = CodeHandlerOf<EventOf<N>>
export type { SignUpView } from '../src/events/sign-up-view.js'
export type {
  TokenIssuanceStartView,
  TokenIssuanceStartActions,
} from '../src/events/token-issuance-start/code.js'
export type {
  AttributeCollectionStartView,
  AttributeCollectionStartActions,
} from '../src/events/attribute-collection-start/code.js'
export type {
  AttributeCollectionSubmitView,
  AttributeCollectionSubmitActions,
} from '../src/events/attribute-collection-submit/code.js'
export type { OtpSendView, OtpSendActions } from '../src/events/otp-send/code.js'
export type { Mailer, OutgoingMail } from '../src/mail/mailer.js'
export type { Logger } from '../src/log.js'
