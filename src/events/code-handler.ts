// Handlers written in code (events.onTokenIssuanceStart(handler)): their types, derived from the
// descriptors, and the wrapper that runs one inside the pipeline. The pipeline still authenticates,
// validates the request, keeps the deadline and checks the answer against the response schema.
import type * as z from 'zod'
import { causeChainTypes, EndpointError } from '../errors.js'
import type { CodeContext, EndpointDependencies, EventDescriptor, EventHandler } from './event.js'
import type { AnyEvent } from './index.js'
import type { LogFields, Logger } from '../log.js'

/** The handler a user writes for event E: its view and `ctx` in, one of E's answers out. */
export type CodeHandlerOf<E> =
  E extends EventDescriptor<
    string,
    infer Request,
    infer Response,
    string,
    z.ZodType,
    readonly string[],
    infer View,
    infer Actions
  >
    ? Request extends z.ZodType
      ? (
          event: View,
          ctx: CodeContext<z.output<Response>> & Actions,
        ) => z.output<Response> | Promise<z.output<Response>>
      : never
    : never

/** Code handlers by route; an event without one runs its declarative handler. */
export type CodeHandlers = {
  readonly [E in AnyEvent as E['name']]?: CodeHandlerOf<E>
}

/**
 * Runs `handler` for `event` with its view and context. What it throws becomes 500 ERR_INTERNAL:
 * the answer never carries its message or stack, which go to the log (with the correlation ID).
 * An EndpointError (ctx.fail, a source that is not configured) keeps its own status and code.
 */
export function runCodeHandler<Request, Response, View, Actions>(
  event: EventDescriptor<
    string,
    z.ZodType,
    z.ZodType,
    string,
    z.ZodType,
    readonly string[],
    View,
    Actions
  >,
  handler: (event: View, ctx: CodeContext<Response> & Actions) => Response | Promise<Response>,
  declarative: EventHandler<Request, Response>,
  deps: EndpointDependencies,
): EventHandler<Request, Response> {
  return async function handleInCode(request, context) {
    const secrets = (await event.code.prepare?.(request, context, deps)) ?? []
    const log = secrets.length === 0 ? context.log : redacting(context.log, secrets)
    const ctx: CodeContext<Response> & Actions = {
      ...event.code.actions(request, context, deps),
      get signal() {
        return context.signal
      },
      remainingMs: () => context.remainingMs(),
      log,
      defaults: async () => declarative(request, context),
    }
    try {
      return await handler(event.code.view(request), ctx)
    } catch (err) {
      if (err instanceof EndpointError) throw err
      context.log.error('handler_failed', {
        handler: event.name,
        error: causeChainTypes(err),
        message: err instanceof Error ? err.message : 'a value that is not an Error was thrown',
      })
      throw new EndpointError('ERR_INTERNAL', 'internal error', { cause: err })
    }
  }
}

/** `log`, with any field that holds one of `secrets` replaced by "[redacted]". */
function redacting(log: Logger, secrets: readonly string[]): Logger {
  const clean = (fields?: LogFields): LogFields | undefined => {
    if (fields === undefined) return undefined
    const out: Record<string, LogFields[string]> = {}
    for (const [name, value] of Object.entries(fields))
      out[name] =
        typeof value === 'string' && secrets.some((secret) => value.includes(secret))
          ? '[redacted]'
          : value
    return out
  }
  return {
    debug: (event, fields) => log.debug(event, clean(fields)),
    info: (event, fields) => log.info(event, clean(fields)),
    warn: (event, fields) => log.warn(event, clean(fields)),
    error: (event, fields) => log.error(event, clean(fields)),
  }
}
