// OpenTelemetry traces and metrics of the endpoint, through @opentelemetry/api only: which SDK
// exports them (Azure Monitor in production, an in-memory one in tests) is the host's choice
// (src/telemetry/azure-monitor.ts). Off, it is NO_TELEMETRY: empty functions on the hot path.
//
// What is recorded, and nothing more (no personal data: no user, address, IP, claim value or URL
// with a user in it; only route names, source names from the configuration, outcomes, statuses,
// durations, and Entra's correlation ID, which identifies the sign-in and not the person):
//   span   "POST /api/{route}" (server)  route, status, outcome (ok or the ERR_ code), correlation ID
//   span   "source {name}" (client)      source name and type, outcome, correlation ID
//   metric entra_extension.request.duration   ms, by route, outcome, status
//   metric entra_extension.source.duration    ms, by source, type, outcome (ok, failed, timeout, stale)
//   metric entra_extension.source.cache       lookups, by source and result (hit, miss)
import {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Meter,
  type Tracer,
} from '@opentelemetry/api'

export const INSTRUMENTATION_NAME = 'entra-auth-extension'

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

const CORRELATION_ID = 'entra.correlation_id'

export function createTelemetry(tracer: Tracer, meter: Meter): Telemetry {
  const requestDuration = meter.createHistogram('entra_extension.request.duration', {
    unit: 'ms',
    description: 'Time from the request to the answer, by route, outcome and HTTP status',
  })
  const sourceDuration = meter.createHistogram('entra_extension.source.duration', {
    unit: 'ms',
    description: 'Time a claims source took, by source, type and result',
  })
  const cacheLookups = meter.createCounter('entra_extension.source.cache', {
    description: 'Cache lookups of claims sources, by source and result (hit or miss)',
  })

  return {
    enabled: true,
    request(route) {
      const span = tracer.startSpan(`POST /api/${route}`, {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': 'POST',
          'http.route': `/api/${route}`,
          'entra.route': route,
        },
      })
      const parent = trace.setSpan(otelContext.active(), span)
      let correlationId: string | undefined
      return {
        correlate(id) {
          correlationId = id
          span.setAttribute(CORRELATION_ID, id)
        },
        source(name, type) {
          const child = tracer.startSpan(
            `source ${name}`,
            {
              kind: SpanKind.CLIENT,
              attributes: {
                'entra.source.name': name,
                'entra.source.type': type,
                ...(correlationId === undefined ? {} : { [CORRELATION_ID]: correlationId }),
              },
            },
            parent,
          )
          return {
            end(result, ms) {
              child.setAttribute('entra.source.result', result)
              if (result === 'failed' || result === 'timeout')
                child.setStatus({ code: SpanStatusCode.ERROR, message: result })
              child.end()
              sourceDuration.record(ms, { source: name, type, result })
            },
          }
        },
        cache(name, result) {
          cacheLookups.add(1, { source: name, result })
        },
        end({ status, outcome, ms }) {
          span.setAttributes({ 'http.response.status_code': status, 'entra.outcome': outcome })
          // A 4xx is the caller's problem, not a failure of this service (OTel HTTP conventions).
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome })
          span.end()
          requestDuration.record(ms, { route, outcome, status })
        },
      }
    },
  }
}
