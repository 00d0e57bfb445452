// The one error of the operator tools' Graph client. Its message names the method, a path with
// personal-looking segments hidden, the status, Graph's error code and the request ids: never a
// token, a query string ($filter holds addresses), a request body, or Graph's own error text
// (which echoes values: "Resource 'ada@contoso.example' does not exist").

/** What went wrong: Graph's answer, or no usable answer at all. */
export type GraphFailure =
  'status' | 'timeout' | 'network' | 'token' | 'too-large' | 'not-json' | 'paging' | 'batch'

export interface GraphErrorDetails {
  readonly failure: GraphFailure
  readonly method: string
  /** The request's path, without its query. */
  readonly path: string
  readonly status?: number | undefined
  /** Graph's `error.code`. */
  readonly code?: string | undefined
  /** The `request-id` Graph answered with (quote it to Microsoft support). */
  readonly requestId?: string | undefined
  /** The `client-request-id` this client sent. */
  readonly clientRequestId?: string | undefined
  /** How many 429/503 answers were retried before this one. */
  readonly retries?: number | undefined
  /**
   * Graph's `error.message`, cut to printable text. It may hold personal data (Graph echoes the
   * values it refused), so it is left out of `message`: show it only where an operator asked.
   */
  readonly graphMessage?: string | undefined
  /** A fix the caller knows of, appended to the message. */
  readonly hint?: string | undefined
  /** What went wrong, for failures that are not an HTTP status. */
  readonly problem?: string | undefined
}

export class GraphError extends Error {
  override readonly name = 'GraphError'
  readonly failure: GraphFailure
  readonly method: string
  readonly path: string
  readonly status: number | undefined
  readonly code: string | undefined
  readonly requestId: string | undefined
  readonly clientRequestId: string | undefined
  readonly retries: number
  readonly graphMessage: string | undefined
  readonly #details: GraphErrorDetails

  constructor(details: GraphErrorDetails) {
    super(describe(details))
    this.#details = details
    this.failure = details.failure
    this.method = details.method
    this.path = details.path
    this.status = details.status
    this.code = details.code
    this.requestId = details.requestId
    this.clientRequestId = details.clientRequestId
    this.retries = details.retries ?? 0
    this.graphMessage = details.graphMessage
  }

  /** The same error with a fix appended to its message (e.g. the permission a 403 lacks). */
  withHint(hint: string): GraphError {
    return new GraphError({ ...this.#details, hint })
  }
}

/** A path's segments that look like data (an address, a quoted key) are shown as {…}. */
export function safePath(path: string): string {
  return path
    .split('?')[0]!
    .split('/')
    .map((segment) => (/[@'"]|%40|%27|%22/i.test(segment) ? '{…}' : segment))
    .join('/')
}

function describe(d: GraphErrorDetails): string {
  const where = `${d.method} ${safePath(d.path)}`
  const ids = [
    d.requestId === undefined ? '' : `request-id ${d.requestId}`,
    d.clientRequestId === undefined ? '' : `client-request-id ${d.clientRequestId}`,
  ].filter((s) => s !== '')
  const idText = ids.length === 0 ? '' : ` [${ids.join(', ')}]`
  const hint = d.hint === undefined ? '' : `: ${d.hint}`
  if (d.failure !== 'status') return `${where}: ${d.problem ?? d.failure}${idText}${hint}`
  const gaveUp =
    (d.status === 429 || d.status === 503) && (d.retries ?? 0) > 0
      ? ` (still throttled after ${d.retries} retries)`
      : ''
  return `${where}: HTTP ${d.status} ${d.code ?? '(no error code)'}${gaveUp}${idText}${hint}`
}
