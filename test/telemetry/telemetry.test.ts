// OpenTelemetry through the real local host, exported to memory (@opentelemetry/sdk-trace-base
// and sdk-metrics): the spans and metrics exist, carry the correlation ID, and hold no personal
// data; log lines of a request carry its correlation ID; without a connection string nothing
// starts. Azure Monitor itself is never started here (it would probe the instance metadata
// endpoint).
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base'
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.js'
import { ConfigError, loadConfig } from '../../src/config.js'
import {
  AUTHENTICATION_STRING_VARIABLE,
  parseAuthenticationString,
} from '../../src/telemetry/authentication-string.js'
import { monitorCredential, telemetryFromEnvironment } from '../../src/telemetry/azure-monitor.js'
import { createTelemetry, INSTRUMENTATION_NAME } from '../../src/telemetry/telemetry.js'
import { startCustomerApi, type CustomerApi } from '../support/customer-api.js'
import {
  capturingLogger,
  startTestEndpoint,
  writeExtensionConfig,
  type LogLine,
  type TestEndpoint,
} from '../support/endpoint.js'
import { startManagedIdentity } from '../support/managed-identity.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
}

const spans = new InMemorySpanExporter()
const reader = new TestReader()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
const meterProvider = new MeterProvider({ readers: [reader] })
const telemetry = createTelemetry(
  tracerProvider.getTracer(INSTRUMENTATION_NAME),
  meterProvider.getMeter(INSTRUMENTATION_NAME),
)

// The fixture's personal data, and what the HR API answers: none may reach a span or a metric.
const event = fixture('token-issuance-start') as {
  data: { authenticationContext: { correlationId: string; user: Record<string, string> } }
}
const CORRELATION_ID = event.data.authenticationContext.correlationId
const USER = event.data.authenticationContext.user
const CLAIM_VALUE = 'Department-Sentinel-4411'

let issuer: TestIssuer
let api: CustomerApi
let endpoint: TestEndpoint

beforeAll(async () => {
  issuer = await startTestIssuer()
  api = await startCustomerApi()
  endpoint = await startTestEndpoint(
    issuer,
    {
      REQUEST_BUDGET_MS: '600',
      LOG_LEVEL: 'debug',
      EXTENSION_CONFIG: writeExtensionConfig({
        tokenIssuanceStart: {
          sources: {
            hr: {
              type: 'http',
              url: `${api.origin}/employees/{user.id}`,
              timeoutMs: 300,
              policy: 'optional',
              cache: { ttlSeconds: 60 },
            },
          },
          claims: {
            correlationId: { from: 'correlationId' },
            department: { source: 'hr', path: 'department' },
          },
        },
      }),
    },
    { telemetry },
  )
})
afterAll(async () => {
  await endpoint.close()
  await api.close()
  await issuer.close()
})
beforeEach(() => {
  spans.reset()
  api.reset()
})

const withUser = (id: string) => {
  const copy = structuredClone(event)
  copy.data.authenticationContext.user.id = id
  return copy
}

function attributes(span: ReadableSpan): Record<string, unknown> {
  return { ...span.attributes }
}

async function histogram(name: string): Promise<DataPoint<Histogram>[]> {
  const { resourceMetrics } = await reader.collect()
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((m: MetricData) => m.descriptor.name === name)
  return (metric?.dataPoints ?? []) as DataPoint<Histogram>[]
}

async function counter(name: string): Promise<DataPoint<number>[]> {
  const { resourceMetrics } = await reader.collect()
  const metric = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((m: MetricData) => m.descriptor.name === name)
  return (metric?.dataPoints ?? []) as DataPoint<number>[]
}

describe('spans', () => {
  it('a server span per request and a client span per source call, with the correlation ID', async () => {
    api.answer({ kind: 'json', body: { department: CLAIM_VALUE } })
    const res = await endpoint.post('onTokenIssuanceStart', withUser('user-span-1'))
    expect(res.status).toBe(200)
    const finished = spans.getFinishedSpans()
    const server = finished.find((s) => s.kind === SpanKind.SERVER)
    const source = finished.find((s) => s.kind === SpanKind.CLIENT)
    expect(server?.name).toBe('POST /api/onTokenIssuanceStart')
    expect(attributes(server!)).toEqual({
      'http.request.method': 'POST',
      'http.route': '/api/onTokenIssuanceStart',
      'entra.route': 'onTokenIssuanceStart',
      'entra.correlation_id': CORRELATION_ID,
      'http.response.status_code': 200,
      'entra.outcome': 'ok',
    })
    expect(source?.name).toBe('source hr')
    expect(attributes(source!)).toEqual({
      'entra.source.name': 'hr',
      'entra.source.type': 'http',
      'entra.correlation_id': CORRELATION_ID,
      'entra.source.result': 'ok',
    })
    // The source span is the server span's child, in the same trace.
    expect(source?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId)
    expect(source?.spanContext().traceId).toBe(server?.spanContext().traceId)
  })

  it('a failed source is an error span; the request (optional source) still a success', async () => {
    api.answer({ kind: 'json', status: 500, body: {} })
    const res = await endpoint.post('onTokenIssuanceStart', withUser('user-span-2'))
    expect(res.status).toBe(200)
    const source = spans.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)
    expect(source?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'failed' })
    expect(attributes(source!)['entra.source.result']).toBe('failed')
    const server = spans.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)
    expect(server?.status.code).toBe(SpanStatusCode.UNSET)
  })

  it('a refused token: a 401 span with the code, no correlation ID (the body was not read)', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', event, { token: 'not-a-token' })
    expect(res.status).toBe(401)
    const [server] = spans.getFinishedSpans()
    expect(attributes(server!)).toMatchObject({
      'http.response.status_code': 401,
      'entra.outcome': 'ERR_TOKEN_INVALID',
    })
    expect(attributes(server!)).not.toHaveProperty('entra.correlation_id')
    expect(server?.status.code).toBe(SpanStatusCode.UNSET) // a 4xx is the caller's, not ours
  })

  it('no span holds personal data or a claim value', async () => {
    api.answer({ kind: 'json', body: { department: CLAIM_VALUE } })
    await endpoint.post('onTokenIssuanceStart', withUser('user-span-3'))
    const text = JSON.stringify(
      spans.getFinishedSpans().map((s) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        status: s.status,
      })),
    )
    for (const value of [
      CLAIM_VALUE,
      'user-span-3',
      USER.mail,
      USER.userPrincipalName,
      USER.displayName,
      '203.0.113',
      api.origin,
      '/employees/',
    ])
      if (value !== undefined) expect(text).not.toContain(value)
    expect(text).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+/)
  })
})

describe('metrics', () => {
  it('request duration by route, outcome and status; source duration; cache hits and misses', async () => {
    api.answer({ kind: 'json', body: { department: CLAIM_VALUE } })
    const before = await counter('entra_extension.source.cache')
    const count = (points: DataPoint<number>[], result: string) =>
      points.find((p) => p.attributes.result === result && p.attributes.source === 'hr')?.value ?? 0
    await endpoint.post('onTokenIssuanceStart', withUser('user-metric-1')) // miss
    await endpoint.post('onTokenIssuanceStart', withUser('user-metric-1')) // hit
    await endpoint.post('onTokenIssuanceStart', withUser('user-metric-1')) // hit
    const after = await counter('entra_extension.source.cache')
    expect(count(after, 'miss') - count(before, 'miss')).toBe(1)
    expect(count(after, 'hit') - count(before, 'hit')).toBe(2)
    // A cache hit makes no source call: one client span for three requests.
    expect(spans.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT)).toHaveLength(1)

    const requests = await histogram('entra_extension.request.duration')
    const ok = requests.find(
      (p) =>
        p.attributes.route === 'onTokenIssuanceStart' &&
        p.attributes.outcome === 'ok' &&
        p.attributes.status === 200,
    )
    expect(ok?.value.count).toBeGreaterThanOrEqual(3)
    const sources = await histogram('entra_extension.source.duration')
    expect(
      sources.find((p) => p.attributes.source === 'hr' && p.attributes.result === 'ok')?.value
        .count,
    ).toBeGreaterThanOrEqual(1)
    expect(JSON.stringify([requests, sources, after])).not.toContain('user-metric-1')
  })
})

describe('logs', () => {
  it('every line a request writes after reading its body carries the correlation ID', async () => {
    api.answer({ kind: 'json', status: 500, body: {} })
    const from = endpoint.logs.length
    await endpoint.post('onTokenIssuanceStart', withUser('user-log-1'))
    const lines = endpoint.logs.slice(from)
    expect(lines.map((l) => l.event)).toEqual(['source_failed', 'auth_event'])
    for (const line of lines) expect(line.fields.correlationId).toBe(CORRELATION_ID)
  })
})

describe('telemetryFromEnvironment', () => {
  it('starts nothing without APPLICATIONINSIGHTS_CONNECTION_STRING (or with a blank one)', async () => {
    expect((await telemetryFromEnvironment({}, silentLogger)).enabled).toBe(false)
    expect(
      (
        await telemetryFromEnvironment(
          { APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' },
          silentLogger,
        )
      ).enabled,
    ).toBe(false)
  })
})

describe('Entra-authenticated ingestion (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)', () => {
  const CLIENT_ID = '0d0d0d0d-0000-4000-8000-00000000a1a1'

  it('reads the two forms Azure documents, and nothing else', () => {
    expect(parseAuthenticationString(`Authorization=AAD;ClientId=${CLIENT_ID}`)).toEqual({
      clientId: CLIENT_ID,
    })
    expect(parseAuthenticationString(`authorization=aad; clientid=${CLIENT_ID};`)).toEqual({
      clientId: CLIENT_ID,
    })
    expect(parseAuthenticationString('Authorization=AAD')).toEqual({ clientId: undefined })
    for (const bad of [
      '',
      'AAD',
      'Authorization=Key',
      `ClientId=${CLIENT_ID}`,
      'Authorization=AAD;ClientId=not-a-guid',
      `Authorization=AAD;ClientId=${CLIENT_ID};ClientId=${CLIENT_ID}`,
      `Authorization=AAD;ClientId=${CLIENT_ID};Secret=x`,
    ])
      expect(parseAuthenticationString(bad), bad).toBeUndefined()
  })

  it('gives the exporter a token of the user-assigned identity it names', async () => {
    const identity = await startManagedIdentity()
    const restore = identity.useEnvironment()
    try {
      const parsed = parseAuthenticationString(`Authorization=AAD;ClientId=${CLIENT_ID}`)
      if (parsed === undefined) throw new Error('not parsed')
      const credential = await monitorCredential(parsed)
      const token = await credential.getToken('https://monitor.azure.com//.default')
      expect(token?.token).toBe(identity.issued.at(-1))
      expect(identity.requests.at(-1)?.query.get('client_id')).toBe(CLIENT_ID)
      expect(identity.requests.at(-1)?.query.get('resource')).toBe('https://monitor.azure.com/')
    } finally {
      restore()
      await identity.close()
    }
  })

  it('a malformed setting: no telemetry (nothing started), and the configuration names it', async () => {
    const logs: LogLine[] = []
    const secretish = 'Authorization=Key;Secret=do-not-log-me'
    const telemetry = await telemetryFromEnvironment(
      {
        APPLICATIONINSIGHTS_CONNECTION_STRING:
          'InstrumentationKey=00000000-0000-0000-0000-000000000000',
        [AUTHENTICATION_STRING_VARIABLE]: secretish,
      },
      capturingLogger(logs),
    )
    expect(telemetry.enabled).toBe(false)
    expect(logs.map((l) => [l.event, l.fields.reason])).toEqual([
      [
        'telemetry_unavailable',
        `${AUTHENTICATION_STRING_VARIABLE}: must be Authorization=AAD or Authorization=AAD;ClientId=<GUID>`,
      ],
    ])
    expect(JSON.stringify(logs)).not.toContain('do-not-log-me')
    let problems: readonly string[] = []
    try {
      loadConfig({
        ENTRA_TENANT_ID: '11111111-2222-4333-8444-555555555555',
        ENTRA_AUDIENCE: 'api://x',
        [AUTHENTICATION_STRING_VARIABLE]: secretish,
      })
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err
      problems = err.problems
    }
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(new RegExp(`^${AUTHENTICATION_STRING_VARIABLE}: `))
    expect(problems[0]).not.toContain('do-not-log-me')
  })
})
