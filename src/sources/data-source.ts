// What every claims data source is to the runner: a name, a policy, a cache key per request (the
// rendered request, so answers are cached per user), and one fetch under a signal and a timeout.
import type { TokenIssuanceStartEvent } from '../events/token-issuance-start/schema.js'

export interface DataSource {
  readonly name: string
  /** The cache key for this request, or a SourceError when the request lacks what it needs. */
  keyFor(event: TokenIssuanceStartEvent): string | SourceError
  /** The answer; rejects with a SourceError (anything else is our bug). */
  fetch(event: TokenIssuanceStartEvent, signal: AbortSignal, timeoutMs: number): Promise<unknown>
}

/** A source failure; the message is logged and may reach Entra: names and statuses, no values. */
export class SourceError extends Error {
  override readonly name = 'SourceError'
  readonly timedOut: boolean

  constructor(message: string, options: { timedOut?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause })
    this.timedOut = options.timedOut ?? false
  }
}
