// Handlers written in code (events.onTokenIssuanceStart(handler)): their types, derived from the
// descriptors, and the wrapper that runs one inside the pipeline. The pipeline still authenticates,
// validates the request, keeps the deadline and checks the answer against the response schema.
import type * as z from 'zod'
import { causeChainTypes, EndpointError } from '../errors.js'
import type { CodeContext, EndpointDependencies, EventDescriptor, EventHandler } from './event.js'
import type { HandlerContext } from './handler-context.js'
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
 * When the request holds secrets (`prepare` returned some: OnPasswordSubmit's username and
 * password), a handler may well put them in what it throws (`no record for ${username}`): then
 * only the error's class names are logged, with a fixed text, and they too pass the redaction.
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
  section: unknown,
): EventHandler<Request, Response> {
  // The descriptor pairs its code with its own request, section and answer; this function sees
  // them through the erased descriptor type, hence the casts (the pairing is by construction).
  const around = event.code.around?.(section, deps) as
    | ((request: Request, context: HandlerContext, run: () => Promise<unknown>) => Promise<unknown>)
    | undefined
  return async function handleInCode(request, context) {
    const secrets = ((await event.code.prepare?.(request, context, deps)) ?? []).filter(
      (secret) => secret.length > 0,
    )
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
    const run = async () => {
      try {
        return await handler(event.code.view(request), ctx)
      } catch (err) {
        if (err instanceof EndpointError) throw err
        if (secrets.length > 0) {
          // Not the message, and not the error as cause: request_failed logs the cause's names.
          log.error('handler_failed', {
            handler: event.name,
            error: causeChainTypes(err),
            message: 'the handler threw (its message is not logged: the request holds secrets)',
          })
          throw new EndpointError('ERR_INTERNAL', 'internal error')
        }
        context.log.error('handler_failed', {
          handler: event.name,
          error: causeChainTypes(err),
          message: err instanceof Error ? err.message : 'a value that is not an Error was thrown',
        })
        throw new EndpointError('ERR_INTERNAL', 'internal error', { cause: err })
      }
    }
    return around === undefined ? run() : (around(request, context, run) as Promise<Response>)
  }
}

/** What a line's event name becomes when it holds one of the secrets. */
const REDACTED_EVENT = 'handler_log_redacted'

/**
 * `log`, with any field that holds one of `secrets` (in any case) replaced by "[redacted]", and an
 * event name that holds one replaced by "handler_log_redacted".
 */
function redacting(log: Logger, secrets: readonly string[]): Logger {
  const lowered = secrets.map((secret) => secret.toLowerCase())
  const holdsSecret = (text: string) => {
    const lower = text.toLowerCase()
    return lowered.some((secret) => lower.includes(secret))
  }
  const clean = (fields?: LogFields): LogFields | undefined => {
    if (fields === undefined) return undefined
    const out: Record<string, LogFields[string]> = {}
    for (const [name, value] of Object.entries(fields)) {
      // A field's name is the handler's text too.
      if (holdsSecret(name)) continue
      out[name] = typeof value === 'string' && holdsSecret(value) ? '[redacted]' : value
    }
    return out
  }
  const name = (event: string) => (holdsSecret(event) ? REDACTED_EVENT : event)
  return {
    debug: (event, fields) => log.debug(name(event), clean(fields)),
    info: (event, fields) => log.info(name(event), clean(fields)),
    warn: (event, fields) => log.warn(name(event), clean(fields)),
    error: (event, fields) => log.error(name(event), clean(fields)),
  }
}
