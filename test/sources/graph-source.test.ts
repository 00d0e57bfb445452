// OnTokenIssuanceStart claims from Microsoft Graph, through the real local host, against an HTTPS
// Graph stand-in and an HTTPS token endpoint (a CA made at test time): $select and directory
// extensions, group names across pages with a cap, the manager, token caching, Retry-After within
// the deadline, every failure under both policies, and a certificate credential.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type TestEndpoint,
  type TestResponse,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { directoryRole, group, startGraph, type GraphStandIn } from '../support/graph-server.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { clientCertificate } from '../support/test-ca.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'

const USER_ID = '7d3c6f2a-0b1e-4c55-9a0e-3f6b2d9e8a11' // the fixture's user
const BOSS_ID = '0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f'
const COST_CENTER = 'extension_0a1b2c3d4e5f40718293a4b5c6d7e8f9_costCenter'
const BUDGET_MS = 600

let issuer: TestIssuer
let tokens: TokenEndpointStandIn
let graph: GraphStandIn

beforeAll(async () => {
  issuer = await startTestIssuer()
  tokens = await startTokenEndpoint()
  graph = await startGraph({ tokens, pageSize: 2 })
  graph.addUser({ id: BOSS_ID, displayName: 'Grace Hopper', employeeId: 'E-1' })
  graph.addUser(
    {
      id: USER_ID,
      userPrincipalName: 'avery@example.org',
      displayName: 'Avery Lindqvist',
      department: 'Sales',
      employeeId: 'E-4711',
      [COST_CENTER]: 'CC-100',
    },
    {
      transitiveMemberOf: [
        group('g-1', 'app-readers'),
        directoryRole('r-1', 'Global Reader'),
        group('g-2', 'app-approvers'),
        group('g-3', 'Finance'),
        group('g-4', 'app-admins'),
        group('g-5', 'London'),
      ],
      manager: BOSS_ID,
    },
  )
})
afterAll(async () => {
  await graph.close()
  await tokens.close()
  await issuer.close()
})
beforeEach(() => {
  graph.reset()
})

const graphEnv = () => ({
  GRAPH_BASE_URL: graph.origin,
  AZURE_TENANT_ID: tokens.tenantId,
  AZURE_CLIENT_ID: tokens.clientId,
  AZURE_CLIENT_SECRET: tokens.clientSecret,
  AZURE_AUTHORITY_HOST: tokens.authorityHost,
  REQUEST_BUDGET_MS: String(BUDGET_MS),
})

function withConfig(
  tokenIssuanceStart: unknown,
  env: () => Record<string, string> = graphEnv,
): { readonly endpoint: TestEndpoint } {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    holder.endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: writeExtensionConfig({ tokenIssuanceStart }),
      ...env(),
    })
  })
  afterAll(async () => {
    await holder.endpoint.close()
  })
  return holder
}

const post = (endpoint: TestEndpoint, edit?: (e: ReturnType<typeof fixture>) => void) => {
  const event = fixture('token-issuance-start')
  edit?.(event)
  return endpoint.post('onTokenIssuanceStart', event)
}
function claimsOf(res: TestResponse): Record<string, unknown> {
  expect(res.status, res.text).toBe(200)
  const body = res.json as { data: { actions: { claims: Record<string, unknown> }[] } }
  return body.data.actions[0]?.claims ?? {}
}
const errorOf = (res: TestResponse) =>
  (res.json as { error: { code: string; message: string } }).error
const lastLog = (endpoint: TestEndpoint, event: string) =>
  endpoint.logs.filter((line) => line.event === event).at(-1)?.fields

describe('a user, groups and the manager from Graph', () => {
  const it$ = withConfig({
    sources: {
      profile: { type: 'graph', query: 'user', select: ['department', 'employeeId', COST_CENTER] },
      groups: { type: 'graph', query: 'transitiveMemberOf', select: ['displayName'], maxItems: 3 },
      boss: { type: 'graph', query: 'manager', select: ['employeeId'] },
    },
    claims: {
      department: { source: 'profile', path: 'department' },
      costCenter: { source: 'profile', path: COST_CENTER },
      groups: { source: 'groups', path: 'value[].displayName' },
      appRoles: {
        source: 'groups',
        path: 'value[].displayName',
        transforms: [{ filterPrefix: 'app-' }, { removePrefix: 'app-' }],
      },
      managerId: { source: 'boss', path: 'employeeId', default: 'none' },
    },
  })

  it('maps the selected properties, group names and the manager to claims', async () => {
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims).toEqual({
      department: 'Sales',
      costCenter: 'CC-100',
      groups: ['app-readers', 'app-approvers', 'Finance'],
      appRoles: ['readers', 'approvers'],
      managerId: 'E-1',
    })
  })

  it('asks Graph with $select, pages with the nextLink, and stops at maxItems', async () => {
    await post(it$.endpoint)
    const user = graph.requests.find((r) => r.path === `/v1.0/users/${USER_ID}`)
    expect(user?.query.get('$select')).toBe(`department,employeeId,${COST_CENTER}`)
    const pages = graph.requests.filter((r) => r.path.endsWith('/transitiveMemberOf'))
    // Page size 2 with a directory role among them: 3 groups take 2 pages, not 3.
    expect(pages).toHaveLength(2)
    expect(pages[0]?.query.get('$top')).toBe('3')
    expect(pages[1]?.query.has('$skiptoken')).toBe(true)
  })

  it('fetches one Graph token for many calls', async () => {
    const before = tokens.hits
    for (let i = 0; i < 5; i++) await post(it$.endpoint)
    expect(tokens.hits - before).toBeLessThanOrEqual(1)
    expect(tokens.scopes.at(-1)).toBe(`${graph.origin}/.default`)
  })

  it('reads a user without a manager as no value, not a failure', async () => {
    const other = '00000000-0000-4000-8000-000000000042'
    graph.addUser({ id: other, department: 'Ops' })
    const claims = claimsOf(
      await post(it$.endpoint, (e) => {
        e.data.authenticationContext.user.id = other
      }),
    )
    expect(claims).toMatchObject({ department: 'Ops', managerId: 'none' })
    expect(claims).not.toHaveProperty('groups')
  })

  it('waits for a slow Graph within the source timeout', async () => {
    graph.fault({ kind: 'slow', delayMs: 150 }, { path: /\/manager$/ })
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims.managerId).toBe('E-1')
  })

  it('retries a 429 whose Retry-After fits the deadline', async () => {
    graph.fault(
      { kind: 'status', status: 429, retryAfterSeconds: 0 },
      { path: `/v1.0/users/${USER_ID}`, times: 1 },
    )
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims.department).toBe('Sales')
    expect(graph.hits(`/v1.0/users/${USER_ID}`)).toBe(2)
  })

  it('does not wait for a Retry-After that would outlast the deadline', async () => {
    graph.fault(
      { kind: 'status', status: 429, retryAfterSeconds: 30 },
      { path: `/v1.0/users/${USER_ID}` },
    )
    const started = performance.now()
    const claims = claimsOf(await post(it$.endpoint))
    expect(performance.now() - started).toBeLessThan(BUDGET_MS)
    expect(claims).not.toHaveProperty('department')
    expect(graph.hits(`/v1.0/users/${USER_ID}`)).toBe(1)
    expect(lastLog(it$.endpoint, 'source_failed')).toMatchObject({
      source: 'profile',
      reason: 'Graph answered HTTP 429 (TooManyRequests)',
    })
  })

  it.each([
    [401, 'Graph answered HTTP 401 (InvalidAuthenticationToken)'],
    [403, 'Graph answered HTTP 403 (Authorization_RequestDenied)'],
    [404, 'Graph answered HTTP 404 (Request_ResourceNotFound)'],
    [500, 'Graph answered HTTP 500 (UnknownError)'],
  ])('leaves an optional source out when Graph answers %i', async (status, reason) => {
    graph.fault({ kind: 'status', status }, { path: /\/transitiveMemberOf$/ })
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims).toEqual({ department: 'Sales', costCenter: 'CC-100', managerId: 'E-1' })
    expect(lastLog(it$.endpoint, 'source_failed')).toMatchObject({ source: 'groups', reason })
  })
})

describe('a required Graph source', () => {
  const it$ = withConfig({
    sources: {
      profile: { type: 'graph', query: 'user', select: ['department'], policy: 'required' },
    },
    claims: { department: { source: 'profile', path: 'department' } },
  })

  it('fails the call with 502 when Graph refuses', async () => {
    graph.fault({ kind: 'status', status: 403 })
    const res = await post(it$.endpoint)
    expect(res.status).toBe(502)
    expect(errorOf(res)).toEqual({
      code: 'ERR_UPSTREAM_FAILED',
      message: 'required source "profile": Graph answered HTTP 403 (Authorization_RequestDenied)',
    })
  })

  it('answers 504 inside the budget when Graph hangs, and aborts the request', async () => {
    graph.fault({ kind: 'hang' })
    const started = performance.now()
    const res = await post(it$.endpoint)
    expect(performance.now() - started).toBeLessThan(BUDGET_MS + 200)
    expect(res.status).toBe(504)
    expect(errorOf(res).code).toBe('ERR_UPSTREAM_TIMEOUT')
    const hung = graph.requests.at(-1)
    await hung?.done
    expect(hung?.aborted).toBe(true)
  })

  it('fails with 502 when the connection drops', async () => {
    graph.fault({ kind: 'reset' })
    const res = await post(it$.endpoint)
    expect(res.status).toBe(502)
    expect(errorOf(res).message).toBe('required source "profile": the connection to Graph failed')
  })
})

describe('the Graph token', () => {
  // MSAL renews a token within 5 minutes of its expiry: with 60 s tokens every call asks the
  // token endpoint, so its faults show (the warm-up token would otherwise hide them).
  beforeAll(() => {
    tokens.expiresInSeconds = 60
  })
  afterAll(() => {
    tokens.expiresInSeconds = 3600
  })
  const hitsBefore = { value: 0 }
  beforeAll(() => {
    hitsBefore.value = tokens.hits
  })
  const it$ = withConfig({
    sources: { profile: { type: 'graph', query: 'user', select: ['department'] } },
    claims: { department: { source: 'profile', path: 'department' } },
  })

  it('is fetched at start-up, before the first sign-in needs it', async () => {
    await expect
      .poll(() => it$.endpoint.logs.find((line) => line.event === 'graph_token_ready'))
      .toBeDefined()
    expect(tokens.hits).toBeGreaterThan(hitsBefore.value)
    expect(graph.hits()).toBe(0)
  })

  it('is a source failure when the token endpoint refuses, and Graph is not called', async () => {
    tokens.mode = { kind: 'fail', status: 401 }
    try {
      const claims = claimsOf(await post(it$.endpoint))
      expect(claims).toEqual({})
      expect(graph.hits()).toBe(0)
      expect(lastLog(it$.endpoint, 'source_failed')).toMatchObject({
        source: 'profile',
        reason: 'an access token could not be obtained',
      })
    } finally {
      tokens.reset()
    }
  })

  it('is a timeout inside the budget when the token endpoint hangs', async () => {
    tokens.mode = { kind: 'hang' }
    try {
      const started = performance.now()
      const claims = claimsOf(await post(it$.endpoint))
      expect(performance.now() - started).toBeLessThan(BUDGET_MS + 200)
      expect(claims).toEqual({})
      expect(lastLog(it$.endpoint, 'source_failed')?.reason).toMatch(
        /^no access token within \d+ ms$/,
      )
    } finally {
      tokens.reset()
    }
  })
})

describe('a certificate credential', () => {
  const certificateEnv = () => {
    throw new Error('replaced in beforeAll')
  }
  const state = { env: certificateEnv as () => Record<string, string> }
  beforeAll(async () => {
    const cert = await clientCertificate()
    const clientId = '33333333-3333-4333-8333-333333333333'
    tokens.addClient({ clientId, certificate: cert.certificate })
    const path = join(mkdtempSync(join(tmpdir(), 'graph-cert-')), 'client.pem')
    writeFileSync(path, cert.pem, { mode: 0o600 })
    const rest: Record<string, string> = graphEnv()
    delete rest.AZURE_CLIENT_SECRET // a certificate instead
    state.env = () => ({ ...rest, AZURE_CLIENT_ID: clientId, AZURE_CLIENT_CERTIFICATE_PATH: path })
  })
  const it$ = withConfig(
    {
      sources: { profile: { type: 'graph', query: 'user', select: ['department'] } },
      claims: { department: { source: 'profile', path: 'department' } },
    },
    () => state.env(),
  )

  it('gets a Graph token with a signed assertion', async () => {
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims).toEqual({ department: 'Sales' })
    expect(tokens.tokenRequests.at(-1)?.clientAuth).toBe('assertion')
  })
})
