// Logger backed by the Functions InvocationContext, so lines land in Application Insights with the
// invocation id. Fields are primitives (src/log.ts): nothing personal can be passed by accident.
import type { InvocationContext } from '@azure/functions'
import type { LogFields, Logger } from '../src/log.js'

export function invocationLogger(context: InvocationContext): Logger {
  const line = (event: string, fields?: LogFields) => JSON.stringify({ event, ...fields })
  return {
    debug: (event, fields) => context.debug(line(event, fields)),
    info: (event, fields) => context.info(line(event, fields)),
    warn: (event, fields) => context.warn(line(event, fields)),
    error: (event, fields) => context.error(line(event, fields)),
  }
}
