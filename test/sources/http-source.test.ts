// OnTokenIssuanceStart claims from the customer's HTTP API, through the real local host with
// tokens from the loopback issuer and a loopback API: requests as configured, mapping, the
// required/optional policies, the deadline, caching (fresh and stale) and Entra's size limit.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createTokenIssuanceStartHandler } from '../../src/events/token-issuance-start/handler.js'
import { TokenIssuanceStartEventSchema } from '../../src/events/token-issuance-start/schema.js'
import { ExtensionConfigSchema } from '../../src/extension-config/schema.js'
import { silentLogger } from '../../src/log.js'
import { createHttpSource } from '../../src/sources/http-api.js'
import { createSourceRunner } from '../../src/sources/run-sources.js'
import { startCustomerApi, type CustomerApi } from '../support/customer-api.js'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type LogLine,
  type TestEndpoint,
  type TestResponse,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

const USER_ID = '7d3c6f2a-0b1e-4c55-9a0e-3f6b2d9e8a11' // the fixture's user
const BUDGET_MS = 400

let issuer: TestIssuer
let api: CustomerApi
beforeAll(async () => {
  issuer = await startTestIssuer()
  api = await startCustomerApi()
})
afterAll(async () => {
  await api.close()
  await issuer.close()
})
beforeEach(() => {
  api.reset()
})

function withConfig(
  tokenIssuanceStart: (origin: string) => unknown,
  env: Record<string, string> = {},
): { readonly endpoint: TestEndpoint } {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    holder.endpoint = await startTestEndpoint(issuer, {
      REQUEST_BUDGET_MS: String(BUDGET_MS),
      EXTENSION_CONFIG: writeExtensionConfig({
        tokenIssuanceStart: tokenIssuanceStart(api.origin),
      }),
      ...env,
    })
  })
  afterAll(async () => {
    await holder.endpoint.close()
  })
  return holder
}

const EMPLOYEE = {
  employee: { id: 4711, costCenter: 'CC-100', active: true },
  roles: [{ name: 'app-reader' }, { name: 'app-approver' }, { name: 'other-admin' }],
  emails: ['avery@example.org', 'a.l@example.org'],
}

function claimsOf(res: TestResponse): Record<string, unknown> {
  expect(res.status, res.text).toBe(200)
  const body = res.json as { data: { actions: { claims: Record<string, unknown> }[] } }
  return body.data.actions[0]?.claims ?? {}
}
const event = (edit?: (e: ReturnType<typeof fixture>) => void) => {
  const e = fixture('token-issuance-start')
  edit?.(e)
  return e
}
const linesOf = (logs: LogLine[], name: string) => logs.filter((line) => line.event === name)

describe('an HTTP source, GET', () => {
  const it$ = withConfig(
    (origin) => ({
      sources: {
        hr: {
          type: 'http',
          url: `${origin}/employees/{user.id}?upn={user.userPrincipalName}&x=a b`,
          auth: { type: 'header', name: 'x-api-key', secretSetting: 'HR_API_KEY' },
          timeoutMs: 300,
        },
      },
      claims: {
        tier: { value: 'gold' },
        employeeId: { source: 'hr', path: 'employee.id' },
        costCenter: { source: 'hr', path: 'employee.costCenter', transforms: ['lowercase'] },
        active: { source: 'hr', path: 'employee.active' },
        roles: {
          source: 'hr',
          path: 'roles[].name',
          transforms: [{ filterPrefix: 'app-' }, { removePrefix: 'app-' }],
        },
        secondEmail: { source: 'hr', path: 'emails[1]' },
        rolesCsv: { source: 'hr', path: 'roles[].name', transforms: [{ join: ';' }] },
        lastRole: { source: 'hr', path: 'roles[].name', transforms: ['last', 'uppercase'] },
        missing: { source: 'hr', path: 'employee.nothing' },
        missingWithDefault: { source: 'hr', path: 'employee.nothing', default: 'none' },
      },
    }),
    { HR_API_KEY: 'hr-secret-123' },
  )

  it('fills the URL with URL-encoded request values and sends the secret header', async () => {
    api.answer({ kind: 'json', body: EMPLOYEE })
    await it$.endpoint.post('onTokenIssuanceStart', event())
    expect(api.requests).toHaveLength(1)
    const [request] = api.requests
    expect(request?.method).toBe('GET')
    expect(request?.path).toBe(`/employees/${USER_ID}?upn=avery%40example.org&x=a%20b`)
    expect(request?.headers['x-api-key']).toBe('hr-secret-123')
    expect(JSON.stringify(it$.endpoint.logs)).not.toContain('hr-secret-123')
  })

  it('maps the answer to claims with paths and transforms; values end as strings', async () => {
    api.answer({ kind: 'json', body: EMPLOYEE })
    const claims = claimsOf(await it$.endpoint.post('onTokenIssuanceStart', event()))
    expect(claims).toEqual({
      tier: 'gold',
      employeeId: '4711',
      costCenter: 'cc-100',
      active: 'true',
      roles: ['reader', 'approver'],
      secondEmail: 'a.l@example.org',
      rolesCsv: 'app-reader;app-approver;other-admin',
      lastRole: 'OTHER-ADMIN',
      missingWithDefault: 'none',
    })
  })

  it('is optional by default: a failure leaves its claims out (or takes their defaults) and is logged', async () => {
    api.answer({ kind: 'json', status: 500, body: { error: 'boom' } })
    const claims = claimsOf(await it$.endpoint.post('onTokenIssuanceStart', event()))
    expect(claims).toEqual({ tier: 'gold', missingWithDefault: 'none' })
    expect(linesOf(it$.endpoint.logs, 'source_failed').at(-1)?.fields).toMatchObject({
      source: 'hr',
      reason: 'answered HTTP 500',
    })
  })

  it('treats a request that lacks a placeholder field as a failure of the source', async () => {
    const res = await it$.endpoint.post(
      'onTokenIssuanceStart',
      event((e) => {
        delete e.data.authenticationContext.user.userPrincipalName
      }),
    )
    expect(claimsOf(res)).toEqual({ tier: 'gold', missingWithDefault: 'none' })
    expect(api.requests).toHaveLength(0)
    expect(linesOf(it$.endpoint.logs, 'source_failed').at(-1)?.fields).toMatchObject({
      source: 'hr',
      reason: 'the request has no user.userPrincipalName',
    })
  })
})

describe('an HTTP source, POST', () => {
  const it$ = withConfig((origin) => ({
    sources: {
      crm: {
        type: 'http',
        method: 'POST',
        url: `${origin}/lookup`,
        body: { upn: '{user.userPrincipalName}', app: 'contoso-{clientServicePrincipal.appId}' },
      },
    },
    claims: { segment: { source: 'crm', path: 'segment' } },
  }))

  it('sends the JSON body with request values (not URL-encoded)', async () => {
    api.answer({ kind: 'json', body: { segment: 'enterprise' } })
    const claims = claimsOf(await it$.endpoint.post('onTokenIssuanceStart', event()))
    expect(claims).toEqual({ segment: 'enterprise' })
    expect(api.requests[0]?.method).toBe('POST')
    expect(api.requests[0]?.headers['content-type']).toBe('application/json')
    expect(api.requests[0]?.json).toEqual({
      upn: 'avery@example.org',
      app: 'contoso-66666666-7777-4888-9999-000000000001',
    })
  })
})

describe('a required source', () => {
  const it$ = withConfig((origin) => ({
    sources: {
      hr: {
        type: 'http',
        url: `${origin}/employees/{user.id}`,
        policy: 'required',
        timeoutMs: 200,
      },
    },
    claims: { employeeId: { source: 'hr', path: 'employee.id' } },
  }))

  it('fails the call with 502 ERR_UPSTREAM_FAILED naming the source, when it fails', async () => {
    for (const answer of [
      { kind: 'json', status: 503, body: {} },
      { kind: 'text', body: '<html>' },
      { kind: 'redirect', status: 302 },
      { kind: 'reset' },
    ] as const) {
      api.answer(answer)
      const res = await it$.endpoint.post('onTokenIssuanceStart', event())
      expect(res.status).toBe(502)
      expect((res.json as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'ERR_UPSTREAM_FAILED',
        message: expect.stringMatching(/^required source "hr": /),
      })
    }
  })

  it('fails with 504 ERR_UPSTREAM_TIMEOUT inside the budget when it hangs', async () => {
    api.answer({ kind: 'hang' })
    const started = performance.now()
    const res = await it$.endpoint.post('onTokenIssuanceStart', event())
    expect(performance.now() - started).toBeLessThan(BUDGET_MS + 200)
    expect(res.status).toBe(504)
    expect(res.json).toEqual({
      error: {
        code: 'ERR_UPSTREAM_TIMEOUT',
        message: 'required source "hr": no answer within 200 ms',
      },
    })
  })
})

describe('sources run concurrently, each under the deadline', () => {
  const it$ = withConfig((origin) => ({
    sources: {
      one: { type: 'http', url: `${origin}/one/{user.id}`, timeoutMs: 1800 },
      two: { type: 'http', url: `${origin}/two/{user.id}`, timeoutMs: 1800 },
    },
    claims: {
      a: { source: 'one', path: 'a' },
      b: { source: 'two', path: 'b', default: 'fallback' },
      fixed: { value: 'x' },
    },
  }))

  it('starts every source at once and answers within the budget when they all hang', async () => {
    api.answer({ kind: 'hang' })
    const started = performance.now()
    const res = await it$.endpoint.post('onTokenIssuanceStart', event())
    // Run one after the other, the second could not start: the first would use the whole budget.
    expect(api.requests.map((r) => r.path.split('/')[1]).sort()).toEqual(['one', 'two'])
    expect(claimsOf(res)).toEqual({ b: 'fallback', fixed: 'x' })
    expect(performance.now() - started).toBeLessThan(BUDGET_MS + 200)
  })
})

describe('a cached source', () => {
  const it$ = withConfig((origin) => ({
    sources: {
      hr: {
        type: 'http',
        url: `${origin}/employees/{user.id}`,
        cache: { ttlSeconds: 60, staleOnErrorSeconds: 600 },
      },
    },
    claims: { costCenter: { source: 'hr', path: 'employee.costCenter' } },
  }))

  it('answers from the cache per user, and serves a stale answer when the source fails', async () => {
    api.answer({ kind: 'json', body: EMPLOYEE })
    for (let i = 0; i < 3; i++) {
      const claims = claimsOf(await it$.endpoint.post('onTokenIssuanceStart', event()))
      expect(claims).toEqual({ costCenter: 'CC-100' })
    }
    expect(api.requests).toHaveLength(1)

    // Another user is another entry.
    api.answer({ kind: 'json', body: { employee: { costCenter: 'CC-200' } } })
    const other = event((e) => {
      e.data.authenticationContext.user.id = '00000000-0000-4000-8000-000000000077'
    })
    expect(claimsOf(await it$.endpoint.post('onTokenIssuanceStart', other))).toEqual({
      costCenter: 'CC-200',
    })
    expect(api.requests).toHaveLength(2)

    // Past the TTL the source is asked again; when it fails, the stale answer is used. (The
    // endpoint's clock moves, so the token must be minted for the moved clock too.)
    const later = async (offsetMs: number) => {
      it$.endpoint.clockOffsetMs += offsetMs
      const now = Math.floor((Date.now() + it$.endpoint.clockOffsetMs) / 1000)
      return { token: await issuer.mint({ iat: now, nbf: now, exp: now + 600 }) }
    }
    api.answer({ kind: 'json', status: 500, body: {} })
    const afterTtl = await later(120_000)
    expect(claimsOf(await it$.endpoint.post('onTokenIssuanceStart', event(), afterTtl))).toEqual({
      costCenter: 'CC-100',
    })
    expect(api.requests).toHaveLength(3)
    expect(linesOf(it$.endpoint.logs, 'source_stale').at(-1)?.fields).toMatchObject({
      source: 'hr',
      reason: 'answered HTTP 500',
    })

    // Past the stale window, a failure is a failure.
    const afterStale = await later(3_600_000)
    expect(claimsOf(await it$.endpoint.post('onTokenIssuanceStart', event(), afterStale))).toEqual(
      {},
    )
  })
})

describe("Entra's claims size limit for source claims", () => {
  const big = 'x'.repeat(2000)
  const it$ = withConfig((origin) => ({
    sources: {
      needed: { type: 'http', url: `${origin}/needed/{user.id}`, policy: 'required' },
      extra: { type: 'http', url: `${origin}/extra/{user.id}` },
    },
    claims: {
      first: { source: 'needed', path: 'value' },
      second: { source: 'extra', path: 'value' },
    },
  }))

  it('drops an optional claim that would not fit, and logs it', async () => {
    api.answer({ kind: 'json', body: { value: big } })
    const claims = claimsOf(await it$.endpoint.post('onTokenIssuanceStart', event()))
    expect(claims).toEqual({ first: big })
    expect(linesOf(it$.endpoint.logs, 'claim_dropped').at(-1)?.fields).toEqual({
      correlationId: expect.any(String),
      claim: 'second',
      source: 'extra',
      reason: "the claims would exceed Entra's limit of 3072 bytes",
    })
  })

  it('fails with 502 ERR_CLAIMS_TOO_LARGE when a required claim does not fit', async () => {
    api.answer({ kind: 'json', body: { value: 'y'.repeat(4000) } })
    const res = await it$.endpoint.post('onTokenIssuanceStart', event())
    expect(res.status).toBe(502)
    expect(res.json).toEqual({
      error: {
        code: 'ERR_CLAIMS_TOO_LARGE',
        message: `claim "first" from required source "needed" does not fit: the claims would exceed Entra's limit of 3072 bytes`,
      },
    })
  })
})

describe('a cache hit', () => {
  it('answers from the cache without a request or the deadline signal', async () => {
    const config = ExtensionConfigSchema.parse({
      tokenIssuanceStart: {
        sources: {
          hr: {
            type: 'http',
            url: `${api.origin}/employees/{user.id}`,
            cache: { ttlSeconds: 60 },
          },
        },
        claims: { costCenter: { source: 'hr', path: 'employee.costCenter' } },
      },
    })
    const { sources, claims } = config.tokenIssuanceStart
    const hr = sources.hr
    if (hr?.type !== 'http') throw new Error('expected the http source')
    const runner = createSourceRunner(
      new Map([['hr', { source: createHttpSource('hr', hr, {}), config: hr }]]),
    )
    const handle = createTokenIssuanceStartHandler(claims, sources, runner)
    let signalsMade = 0
    const context = {
      get signal() {
        signalsMade++
        return new AbortController().signal
      },
      remainingMs: () => 500,
      log: silentLogger,
      now: Date.now,
    }
    const parsed = TokenIssuanceStartEventSchema.parse(event())
    api.answer({ kind: 'json', body: EMPLOYEE })

    const first = await handle(parsed, context)
    expect(first.data.actions[0].claims).toEqual({ costCenter: 'CC-100' })
    expect(signalsMade).toBe(1)

    const second = await handle(parsed, context)
    expect(second.data.actions[0].claims).toEqual({ costCenter: 'CC-100' })
    expect(signalsMade).toBe(1)
    expect(api.requests).toHaveLength(1)
  })
})
