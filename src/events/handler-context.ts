// What every event handler receives besides its validated event.
import type { Logger } from '../log.js'

export interface HandlerContext {
  /** The request deadline. Every outbound call must pass it on and stop when it aborts. */
  readonly signal: AbortSignal
  /** Milliseconds left of the request budget: outbound calls size their timeouts from it. */
  remainingMs(): number
  readonly log: Logger
  readonly now: () => number
}
