// What every event handler receives besides its validated event.
import type { Logger } from '../log.js'
import type { RequestTrace } from '../telemetry/telemetry.js'

export interface HandlerContext {
  /** The request deadline. Every outbound call must pass it on and stop when it aborts. */
  readonly signal: AbortSignal
  /** Milliseconds left of the request budget: outbound calls size their timeouts from it. */
  remainingMs(): number
  /** With the request's correlation ID on every line, once the body is read. */
  readonly log: Logger
  readonly now: () => number
  /** The request's telemetry (absent: none). */
  readonly trace?: RequestTrace
}
