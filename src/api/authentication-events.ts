// The host-neutral half of the package's API: handlers written in code, one method per event
// descriptor, and serve() (the local host). functions/index.ts adds register(app) for Azure
// Functions; src/testing runs the same object in-process.
import type { CodeHandlerOf, CodeHandlers } from '../events/code-handler.js'
import { EVENTS, type AnyEvent } from '../events/index.js'
import { startLocalServer, type LocalServer } from '../http/local-server.js'
import { createJsonLogger, type Logger } from '../log.js'

export type Environment = Readonly<Record<string, string | undefined>>

export interface AuthenticationEventsOptions {
  /** Settings, as app settings / environment variables (default: process.env). */
  readonly env?: Environment
  /** Where JSON log lines go (default: standard error). */
  readonly log?: Logger
}

/** One method per event: `events.onTokenIssuanceStart(async (event, ctx) => …)`. */
export type EventMethods<Self> = {
  readonly [E in AnyEvent as E['name']]: (handler: CodeHandlerOf<E>) => Self
}

export interface ServeOptions {
  /** Default: the HOST variable, else 127.0.0.1. Dev mode (no ENTRA_TENANT_ID) is loopback only. */
  readonly host?: string
  /** Default: the PORT variable, else 7071; 0 picks a free port. */
  readonly port?: number
}

export interface ServingEndpoint extends LocalServer {
  readonly url: string
  close(): Promise<void>
}

export interface EventsCore {
  /** Serves every event route on the local host (no Azure), as `npm start` does. */
  serve(options?: ServeOptions): Promise<ServingEndpoint>
  readonly [INTERNALS]: EventsInternals
}

/** What the host adapters and the testing helpers read of an events object. */
export const INTERNALS = Symbol('entra-auth-extension internals')
export interface EventsInternals {
  readonly env: Environment
  readonly log: Logger
  /** The handlers registered so far; freezes them (no more may be added once serving). */
  readonly take: () => CodeHandlers
}

export interface AuthenticationEventsCore
  extends EventMethods<AuthenticationEventsCore>, EventsCore {}

/** The host reads the environment (functions/index.ts, serve-local.ts) and passes it here. */
export function createAuthenticationEvents(
  options: AuthenticationEventsOptions & { readonly env: Environment },
): AuthenticationEventsCore {
  const env = options.env
  const log = options.log ?? createJsonLogger((line) => process.stderr.write(line))
  const handlers: Record<string, unknown> = {}
  let frozen = false

  const internals: EventsInternals = {
    env,
    log,
    take: () => {
      frozen = true
      return { ...handlers }
    },
  }
  const events = {
    [INTERNALS]: internals,
    async serve(serveOptions: ServeOptions = {}) {
      return startLocalServer({
        env: {
          ...env,
          ...(serveOptions.host === undefined ? {} : { HOST: serveOptions.host }),
          ...(serveOptions.port === undefined ? {} : { PORT: String(serveOptions.port) }),
        },
        log,
        code: internals.take(),
      })
    },
  } as Record<string | symbol, unknown>
  for (const event of EVENTS) {
    events[event.name] = (handler: unknown) => {
      if (typeof handler !== 'function')
        throw new TypeError(`${event.name}: the handler must be a function`)
      if (frozen) throw new Error(`${event.name}: add handlers before register() or serve()`)
      if (handlers[event.name] !== undefined)
        throw new Error(`${event.name}: a handler is already registered for this event`)
      handlers[event.name] = handler
      return events
    }
  }
  return events as unknown as AuthenticationEventsCore
}
