// What the endpoint records, as the rest of the code sees it (src/telemetry/telemetry.ts says what
// is recorded), and NO_TELEMETRY: the endpoint without telemetry. Apart from telemetry.ts so that
// an endpoint without telemetry never loads @opentelemetry/api (azure-monitor.ts imports it, and
// telemetry.ts, when APPLICATIONINSIGHTS_CONNECTION_STRING is set).
export type SourceResult = 'ok' | 'failed' | 'timeout' | 'stale'

export interface SourceTrace {
  end(result: SourceResult, ms: number): void
}

/** One request's telemetry: made when the request starts, ended with its answer. */
export interface RequestTrace {
  /** Entra's correlation ID, once the body is read: on this span and every child. */
  correlate(correlationId: string): void
  /** A call to a claims source (not made for a cache hit). */
  source(name: string, type: string): SourceTrace
  /** A cache lookup of a source. */
  cache(name: string, result: 'hit' | 'miss'): void
  end(answer: { readonly status: number; readonly outcome: string; readonly ms: number }): void
}

export interface Telemetry {
  readonly enabled: boolean
  /** `route`: the event route's name (onTokenIssuanceStart, …), a span attribute. */
  request(route: string): RequestTrace
}

const NO_SOURCE: SourceTrace = { end: () => undefined }
export const NO_REQUEST_TRACE: RequestTrace = {
  correlate: () => undefined,
  source: () => NO_SOURCE,
  cache: () => undefined,
  end: () => undefined,
}
export const NO_TELEMETRY: Telemetry = { enabled: false, request: () => NO_REQUEST_TRACE }
