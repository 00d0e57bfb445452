// `npm run insights`: the pure aggregation on a seeded sign-in log, and the CLI as a user runs it,
// against loopback HTTPS stand-ins for the token endpoint and Graph's sign-in logs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { EXTENSION_ERROR_CODES } from '../../tools/observe/error-codes.js'
import { readOperatorCredential } from '../../tools/cli/operator-credential.js'
import {
  aggregateSignIns,
  CALLOUT_RESULT_TYPE,
  LATENCY_NOTE,
  type SignInInsights,
} from '../../tools/observe/sign-in-insights.js'
import { escapeHtml } from '../../tools/observe/signin-report-html.js'
import {
  startSignInLogServer,
  type SignInLogStandIn,
  type SignInRecord,
} from '../support/sign-in-log-server.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'
import { runCli, signedIn, type CliRun } from '../support/operator-cli.js'

const A = '11111111-1111-4111-8111-111111111111'
const B = '22222222-2222-4222-8222-222222222222'

function listener(
  eventType: string,
  customExtensionId: string,
  at: string,
  result: { httpStatus?: number | null; errorCode?: number | null; numberOfAttempts?: number },
) {
  return {
    '@odata.type': '#microsoft.graph.appliedAuthenticationEventListener',
    eventType,
    executedListenerId: `listener-${eventType}`,
    handlerResult: {
      '@odata.type': CALLOUT_RESULT_TYPE,
      customExtensionId,
      calloutDateTime: at,
      numberOfAttempts: result.numberOfAttempts ?? 1,
      httpStatus: result.httpStatus ?? null,
      errorCode: result.errorCode ?? null,
    },
  }
}

const tis = (at: string, r: Parameters<typeof listener>[3]) =>
  listener('tokenIssuanceStart', A, at, r)
const acs = (at: string, r: Parameters<typeof listener>[3]) =>
  listener('attributeCollectionSubmit', B, at, r)

function signIn(id: string, createdDateTime: string, listeners: unknown[]): SignInRecord {
  return {
    id,
    createdDateTime,
    userPrincipalName: `${id}@contoso.test`,
    appliedEventListeners: listeners,
  }
}

/** Ten sign-ins from 2026-05-03 to 2026-05-05 (the range the CLI tests ask for). */
const IN_RANGE: SignInRecord[] = [
  signIn('s1', '2026-05-03T10:00:00Z', [tis('2026-05-03T10:00:01Z', { httpStatus: 200 })]),
  signIn('s2', '2026-05-03T11:00:00Z', [
    tis('2026-05-03T11:00:01Z', { httpStatus: 500, errorCode: 1003002, numberOfAttempts: 2 }),
  ]),
  signIn('s3', '2026-05-03T12:00:00Z', [
    tis('2026-05-03T12:00:01Z', { errorCode: 1003005, numberOfAttempts: 3 }),
  ]),
  signIn('s4', '2026-05-04T08:00:00Z', [
    tis('2026-05-04T08:00:01Z', { httpStatus: 200 }),
    acs('2026-05-04T08:00:02Z', { httpStatus: 200 }),
  ]),
  signIn('s5', '2026-05-04T09:00:00Z', [
    acs('2026-05-04T09:00:01Z', { httpStatus: 200, errorCode: 1003003 }),
  ]),
  signIn('s6', '2026-05-04T10:00:00Z', [
    tis('2026-05-04T10:00:01Z', { httpStatus: 200 }),
    {
      eventType: 'tokenIssuanceStart',
      handlerResult: { '@odata.type': CALLOUT_RESULT_TYPE, customExtensionId: 7 },
    },
    null,
  ]),
  signIn('s7', '2026-05-04T11:00:00Z', []),
  signIn('s8', '2026-05-04T12:00:00Z', [
    {
      eventType: 'pageRenderStart',
      handlerResult: { '@odata.type': '#microsoft.graph.somethingElse' },
    },
  ]),
  signIn('s9', '2026-05-04T13:00:00Z', [
    tis('2026-05-04T13:00:01Z', { httpStatus: 200, errorCode: 0 }),
  ]),
  // The callout happened before midnight: it counts on that day.
  signIn('s10', '2026-05-05T00:00:30Z', [acs('2026-05-04T23:59:59Z', { httpStatus: 200 })]),
]
const OUT_OF_RANGE: SignInRecord[] = [
  signIn('s0', '2026-05-02T23:59:59Z', [tis('2026-05-02T23:59:59Z', { httpStatus: 500 })]),
  signIn('s11', '2026-05-06T00:00:00Z', [tis('2026-05-06T00:00:01Z', { httpStatus: 500 })]),
]

const name = (code: number) => EXTENSION_ERROR_CODES.get(code)?.name
const meaning = (code: number) => EXTENSION_ERROR_CODES.get(code)?.meaning

const EXPECTED_A = {
  customExtensionId: A,
  eventType: 'tokenIssuanceStart',
  calls: 6,
  successes: 4,
  failures: 2,
  successRate: 0.6667,
  attempts: 9,
  retries: 3,
  byHttpStatus: { '200': 4, '500': 1, none: 1 },
  byErrorCode: [
    {
      code: 1003002,
      name: 'CustomExtensionInvalidHTTPStatus',
      meaning: meaning(1003002),
      count: 1,
    },
    { code: 1003005, name: 'CustomExtensionTimedOut', meaning: meaning(1003005), count: 1 },
  ],
  days: [
    {
      day: '2026-05-03',
      calls: 3,
      successes: 1,
      failures: 2,
      successRate: 0.3333,
      attempts: 6,
      retries: 3,
      byHttpStatus: { '200': 1, '500': 1, none: 1 },
      byErrorCode: [
        { code: 1003002, name: name(1003002), meaning: meaning(1003002), count: 1 },
        { code: 1003005, name: name(1003005), meaning: meaning(1003005), count: 1 },
      ],
    },
    {
      day: '2026-05-04',
      calls: 3,
      successes: 3,
      failures: 0,
      successRate: 1,
      attempts: 3,
      retries: 0,
      byHttpStatus: { '200': 3 },
      byErrorCode: [],
    },
  ],
}
const EXPECTED_B_TOTALS = {
  customExtensionId: B,
  eventType: 'attributeCollectionSubmit',
  calls: 3,
  successes: 2,
  failures: 1,
  successRate: 0.6667,
  attempts: 3,
  retries: 0,
  byHttpStatus: { '200': 3 },
  byErrorCode: [
    {
      code: 1003003,
      name: 'CustomExtensionInvalidResponseBody',
      meaning: meaning(1003003),
      count: 1,
    },
  ],
}

describe('aggregateSignIns', () => {
  it('counts calls, successes, statuses, error codes, retries and days per extension and event', () => {
    const insights = aggregateSignIns([...IN_RANGE, { id: 'broken' }, 'not an object'])
    expect(insights).toMatchObject({
      signIns: 12,
      malformedSignIns: 2,
      signInsWithMultipleListeners: 2,
      listeners: 12,
      calls: 9,
      otherListeners: 1,
      filteredOut: 0,
      malformedListeners: 2,
      latency: LATENCY_NOTE,
    })
    expect(insights.extensions).toHaveLength(2)
    expect(insights.extensions[0]).toMatchObject(EXPECTED_A)
    expect(insights.extensions[1]).toMatchObject(EXPECTED_B_TOTALS)
    expect(insights.extensions[1]?.days.map((d) => [d.day, d.calls, d.failures])).toEqual([
      ['2026-05-04', 3, 1],
    ])
    expect(JSON.stringify(insights)).not.toMatch(/latencyMs|duration/i)
  })

  it('keeps only the extension asked for, compared without regard to case', () => {
    const insights = aggregateSignIns(IN_RANGE, { extensionId: B.toUpperCase() })
    expect(insights.calls).toBe(3)
    expect(insights.filteredOut).toBe(6)
    expect(insights.extensions.map((e) => e.customExtensionId)).toEqual([B])
  })

  it('has every code of the contract table, 1003000–1003027 (no 1003013)', () => {
    const codes = [...EXTENSION_ERROR_CODES.keys()]
    expect(codes).toHaveLength(27)
    expect(codes).not.toContain(1003013)
    expect(name(1003027)).toBe('CustomExtensionConnectionError')
    expect(
      aggregateSignIns([
        signIn('x', '2026-05-03T00:00:00Z', [
          tis('2026-05-03T00:00:00Z', { httpStatus: 200, errorCode: 1009999 }),
        ]),
      ]).extensions[0]?.byErrorCode[0],
    ).toMatchObject({ code: 1009999, name: 'Unknown' })
  })

  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    )
  })
})

describe('readOperatorCredential', () => {
  it('mirrors the endpoint: a secret or a certificate, else DefaultAzureCredential', () => {
    const ids = { AZURE_TENANT_ID: A, AZURE_CLIENT_ID: B }
    expect(readOperatorCredential({ ...ids, AZURE_CLIENT_SECRET: 's' })).toMatchObject({
      kind: 'clientSecret',
      tenantId: A,
      clientId: B,
    })
    expect(
      readOperatorCredential({ ...ids, AZURE_CLIENT_CERTIFICATE_PATH: '/c.pem' }),
    ).toMatchObject({ kind: 'clientCertificate' })
    expect(readOperatorCredential({})).toEqual({ kind: 'default', tenantId: undefined })
    expect(
      readOperatorCredential({
        ...ids,
        AZURE_CLIENT_SECRET: 's',
        AZURE_CLIENT_CERTIFICATE_PATH: '/c',
      }),
    ).toMatch(/not both/)
    expect(readOperatorCredential({ AZURE_TENANT_ID: A, AZURE_CLIENT_SECRET: 's' })).toMatch(
      /AZURE_CLIENT_ID/,
    )
  })
})

describe('npm run insights', () => {
  let tokens: TokenEndpointStandIn
  let graph: SignInLogStandIn
  let dir: string
  const outputs: string[] = []

  beforeAll(async () => {
    tokens = await startTokenEndpoint({ roles: ['AuditLog.Read.All'] })
    graph = await startSignInLogServer({ tokens, signIns: [...OUT_OF_RANGE, ...IN_RANGE] })
    dir = mkdtempSync(join(tmpdir(), 'insights-'))
  })
  afterEach(() => {
    graph.reset()
    graph.signIns = [...OUT_OF_RANGE, ...IN_RANGE]
  })
  afterAll(async () => {
    // No access token ever reaches the output.
    expect(tokens.issued.length).toBeGreaterThan(0)
    for (const token of tokens.issued) for (const out of outputs) expect(out).not.toContain(token)
    await graph.close()
    await tokens.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function insights(...args: string[]): Promise<CliRun> {
    const r = await runCli('insights', args, signedIn(tokens, graph.origin))
    outputs.push(r.stdout, r.stderr)
    return r
  }

  const RANGE = ['--since', '2026-05-03T00:00:00Z', '--until', '2026-05-06T00:00:00Z']
  const RANGE_DATES = {
    since: new Date('2026-05-03T00:00:00Z'),
    until: new Date('2026-05-06T00:00:00Z'),
  }

  it('--json prints the aggregation of every page in the range', async () => {
    const r = await insights(...RANGE, '--page-size', '3', '--json')
    // stderr is not a terminal, and --json: no progress per page, no summary.
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const printed = JSON.parse(r.stdout)
    expect(printed).toEqual(aggregateSignIns(IN_RANGE, RANGE_DATES))
    expect(printed.extensions[0]).toMatchObject(EXPECTED_A)
    expect(printed.signIns).toBe(10)

    const pages = graph.requests.filter((q) => q.path === '/beta/auditLogs/signIns')
    expect(pages.map((q) => q.status)).toEqual([200, 200, 200, 200])
    expect(pages[0]?.query.get('$filter')).toBe(
      'createdDateTime ge 2026-05-03T00:00:00.000Z and createdDateTime lt 2026-05-06T00:00:00.000Z',
    )
    expect(pages[0]?.query.get('$top')).toBe('3')
    expect(pages[3]?.query.get('$skiptoken')).toBe('9')
    for (const page of pages) {
      expect(page.headers.prefer).toBe('include-unknown-enum-members')
      expect(page.headers.authorization).toMatch(/^Bearer /)
    }
    expect(tokens.scopes.at(-1)).toBe(`${graph.origin}/.default`)
  })

  it('--extension and --max-pages narrow what is read and reported', async () => {
    const r = await insights(
      ...RANGE,
      '--page-size',
      '3',
      '--max-pages',
      '2',
      '--extension',
      B,
      '--json',
    )
    expect(r.code).toBe(0)
    expect(graph.requests).toHaveLength(2)
    expect(r.stderr).toMatch(/more sign-ins are unread/)
    const printed = JSON.parse(r.stdout) as SignInInsights
    // Newest first: s10…s5 are the first two pages.
    expect(printed.signIns).toBe(6)
    expect(printed.extensions.map((e) => e.customExtensionId)).toEqual([B])
  })

  it('waits for Retry-After after a 429 and then succeeds', async () => {
    graph.fault({ status: 429, retryAfterSeconds: 1 })
    const started = Date.now()
    const r = await insights(...RANGE, '--json')
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/Graph answered 429: retry 1 in 1\.0 s/)
    expect(graph.requests.map((q) => q.status)).toEqual([429, 200])
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
    expect(JSON.parse(r.stdout)).toEqual(aggregateSignIns(IN_RANGE, RANGE_DATES))
  })

  it('gives up after 3 retries of a 429', async () => {
    graph.fault({ status: 429, retryAfterSeconds: 0 }, 10)
    const r = await insights(...RANGE)
    expect(r.code).toBe(1)
    expect(graph.requests).toHaveLength(4)
    expect(r.stderr).toMatch(/HTTP 429 TooManyRequests \(still throttled after 3 retries\)/)
  })

  it('exits 1 naming the status and Graph code on a 403 or a 500', async () => {
    graph.fault({ status: 403 })
    const denied = await insights(...RANGE)
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(/HTTP 403 Authorization_RequestDenied/)
    expect(denied.stderr).toMatch(/AuditLog\.Read\.All/)
    expect(denied.stdout).toBe('')

    graph.fault({ status: 500 })
    const broken = await insights(...RANGE)
    expect(broken.code).toBe(1)
    expect(broken.stderr).toMatch(/HTTP 500 UnknownError/)
  })

  it('--html writes a self-contained report with escaped values and SVG charts', async () => {
    graph.signIns.push(
      signIn('evil', '2026-05-04T14:00:00Z', [
        listener('<script>alert("x")</script>', A, '2026-05-04T14:00:01Z', { httpStatus: 200 }),
      ]),
    )
    const file = join(dir, 'report.html')
    const r = await insights(...RANGE, '--html', file)
    expect(r.code).toBe(0)
    // Piped stderr: no progress per page, only the summary at the end.
    expect(r.stderr).not.toMatch(/^page \d+:/m)
    expect(r.stderr).toMatch(/^read \d+ sign-ins in 1 page\(s\)$/m)
    expect(r.stdout).toContain(`extension ${A} tokenIssuanceStart: 6 calls, 4 ok (66.7%)`)
    const html = readFileSync(file, 'utf8')
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain(A)
    expect(html).toContain(B)
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
    expect(html).not.toContain('<script')
    expect(html).toContain('<svg')
    expect(html).toContain('CustomExtensionInvalidHTTPStatus')
    expect(html).toContain('carry no time per call')
    expect(html).not.toContain('UNCONFIRMED')
    expect(html).not.toMatch(/(src|href)="https?:/)
  })

  it('--help exits 0 with the usage; bad arguments exit 2', async () => {
    const help = await insights('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^usage: npm run insights/)

    const since = await insights('--since', 'yesterday')
    expect(since.code).toBe(2)
    expect(since.stderr).toMatch(/--since: "yesterday"/)

    const order = await insights(
      '--since',
      '2026-05-06T00:00:00Z',
      '--until',
      '2026-05-03T00:00:00Z',
    )
    expect(order.code).toBe(2)
    const unknown = await insights('--bogus')
    expect(unknown.code).toBe(2)
    expect(graph.requests).toHaveLength(0)
  })
})
