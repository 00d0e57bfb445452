// The Azure Functions adapter: converts HttpRequest in and Reply out, nothing more. Kept apart from
// the registrations in auth-events.ts so that tests can build handlers from their own environment.
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions'
import { createEndpoint, createMisconfiguredEndpoint, type Endpoint } from '../src/app.js'
import { ConfigError, loadConfig } from '../src/config.js'
import type { CodeHandlers } from '../src/events/code-handler.js'
import type { EventRoute } from '../src/events/routes.js'
import type { Reply } from '../src/http/types.js'
import { createJsonLogger, type Logger } from '../src/log.js'
import type { Telemetry } from '../src/telemetry/telemetry.js'
import { invocationLogger } from './invocation-logger.js'

/**
 * Never throws on a bad configuration: a throw at import would leave no function registered and only
 * a worker warning. It logs each problem and serves an endpoint that answers 500 ERR_CONFIG_INVALID.
 */
export function startEndpoint(
  env: Readonly<Record<string, string | undefined>>,
  log: Logger = createJsonLogger((line) => process.stderr.write(line)),
  telemetry?: Telemetry,
  code?: CodeHandlers,
): Endpoint {
  try {
    return createEndpoint(loadConfig(env), {
      log,
      ...(telemetry === undefined ? {} : { telemetry }),
      ...(code === undefined ? {} : { code }),
    })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    for (const problem of err.problems) log.error('configuration_invalid', { problem })
    return createMisconfiguredEndpoint(log)
  }
}

const toResponse = (reply: Reply): HttpResponseInit => ({
  status: reply.status,
  headers: reply.headers,
  body: reply.body,
})

/** `endpoint` may still be starting (telemetry is set up first): each call waits for it. */
export function eventHandler(endpoint: Endpoint | Promise<Endpoint>, route: EventRoute) {
  return async function handleEvent(
    request: HttpRequest,
    context: InvocationContext,
  ): Promise<HttpResponseInit> {
    // HttpRequest is Fetch-shaped: method, headers.get and a web ReadableStream body, which is
    // async-iterable on Node 20; the body is read only after the caller is authenticated.
    const reply = await (
      await endpoint
    ).handle(
      route,
      { method: request.method, headers: request.headers, body: request.body },
      { log: invocationLogger(context) },
    )
    return toResponse(reply)
  }
}

export function healthHandler(endpoint: Endpoint | Promise<Endpoint>) {
  return async function handleHealth(request: HttpRequest): Promise<HttpResponseInit> {
    return toResponse(
      await (await endpoint).health({ authorization: request.headers.get('authorization') }),
    )
  }
}
