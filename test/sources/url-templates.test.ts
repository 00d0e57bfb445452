// Security review, finding 2: request values fill outbound URLs but never choose where they go.
// At load, a placeholder before the path (scheme, user, host, port) is refused, and so is a "{…}"
// in a URL that takes none. At request time, a value cannot climb out of its path segment ("." or
// "..", or a "/" or "\" that a server may decode back into a separator) nor add query parameters;
// the source then fails under its policy, and the log names the field, never the value. Through
// the real local host, against the loopback customer API and the Graph stand-in.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { startCustomerApi, type CustomerApi } from '../support/customer-api.js'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type TestEndpoint,
  type TestResponse,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startGraph, type GraphStandIn } from '../support/graph-server.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'

const TENANT = '11111111-2222-4333-8444-555555555555'
const valid = { ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: 'a1b2c3d4-0000-4000-8000-00000000e0e0' }
const USER_ID = '7d3c6f2a-0b1e-4c55-9a0e-3f6b2d9e8a11' // the fixture's user
const PATH_RULE =
  'placeholders are allowed only in the path and query, not in the scheme, user, host or port'

function problemsFor(extension: unknown): string[] {
  const path = writeExtensionConfig(extension)
  try {
    loadConfig({ ...valid, EXTENSION_CONFIG: path })
  } catch (err) {
    if (err instanceof ConfigError)
      return err.problems.map((problem) => problem.replace(`EXTENSION_CONFIG: ${path}: `, ''))
    throw err
  }
  return []
}
const httpSource = (url: string) => ({
  tokenIssuanceStart: {
    sources: { hr: { type: 'http', url } },
    claims: { a: { source: 'hr', path: 'a' } },
  },
})

describe('finding 2, at load', () => {
  it('finding 2: a placeholder in the host is refused at load, naming the source and the field', () => {
    expect(problemsFor(httpSource('https://{user.companyName}/v1/claims'))).toEqual([
      `tokenIssuanceStart.sources.hr.url: ${PATH_RULE}`,
    ])
  })

  it('finding 2: a placeholder in the scheme, user, port or part of the host is refused at load', () => {
    for (const url of [
      '{protocol}://api.example.com/v1',
      'https://{user.mail}@api.example.com/v1',
      'https://u:{user.id}@api.example.com/v1',
      'https://api.example.com:{user.id}/v1',
      'https://api-{user.companyName}.example.com/v1',
      'https://api.example.com{user.id}/v1',
      'https://api.example.com{user.id}',
      'https://api.example.com/v1#{user.id}',
    ])
      expect(problemsFor(httpSource(url)), url).toEqual([
        `tokenIssuanceStart.sources.hr.url: ${PATH_RULE}`,
      ])
  })

  it('finding 2: placeholders in the path and the query still load', () => {
    for (const url of [
      'https://api.example.com/{user.id}',
      'https://api.example.com/v1/users/{user.id}/claims?upn={user.userPrincipalName}',
      'https://api.example.com/v1/{user.id}.json',
      'https://api.example.com?upn={user.userPrincipalName}',
      'https://api.example.com:8443/v1/{user.id}',
    ])
      expect(problemsFor(httpSource(url)), url).toEqual([])
  })

  it('finding 2: a {…} in remoteValidation.url (which takes no placeholders) is refused at load', () => {
    const remote = (url: string) => ({
      attributeCollectionSubmit: {
        remoteValidation: { url, onFailure: { action: 'continue' } },
      },
    })
    expect(problemsFor(remote('https://{user.companyName}/validate'))).toEqual([
      'attributeCollectionSubmit.remoteValidation.url: takes no placeholders such as {user.id}: it is called exactly as written',
    ])
    expect(problemsFor(remote('https://signup.example.com/validate/{user.id}'))).toEqual([
      'attributeCollectionSubmit.remoteValidation.url: takes no placeholders such as {user.id}: it is called exactly as written',
    ])
    expect(problemsFor(remote('https://signup.example.com/validate?tenant=contoso'))).toEqual([])
  })
})

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await startTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

function withEndpoint(
  tokenIssuanceStart: () => unknown,
  env: () => Record<string, string> = () => ({}),
): { readonly endpoint: TestEndpoint } {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    holder.endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: writeExtensionConfig({ tokenIssuanceStart: tokenIssuanceStart() }),
      ...env(),
    })
  })
  afterAll(async () => {
    await holder.endpoint.close()
  })
  return holder
}

type TokenEvent = ReturnType<typeof fixture>
const withUser =
  (fields: Record<string, string>) =>
  (event: TokenEvent): TokenEvent => {
    Object.assign(event.data.authenticationContext.user, fields)
    return event
  }
const post = (endpoint: TestEndpoint, edit: (e: TokenEvent) => TokenEvent = (e) => e) =>
  endpoint.post('onTokenIssuanceStart', edit(fixture('token-issuance-start')))
function claimsOf(res: TestResponse): Record<string, unknown> {
  expect(res.status, res.text).toBe(200)
  const body = res.json as { data: { actions: { claims: Record<string, unknown> }[] } }
  return body.data.actions[0]?.claims ?? {}
}
const failures = (endpoint: TestEndpoint) =>
  endpoint.logs.filter((line) => line.event === 'source_failed').map((line) => line.fields)

describe('finding 2, an HTTP source at request time', () => {
  let api: CustomerApi
  beforeAll(async () => {
    api = await startCustomerApi()
  })
  afterAll(async () => {
    await api.close()
  })
  beforeEach(() => {
    api.reset()
    api.answer({ kind: 'json', body: { tier: 'gold' } })
  })

  const it$ = withEndpoint(
    () => ({
      sources: {
        company: {
          type: 'http',
          url: `${api.origin}/v1/companies/{user.companyName}/claims?upn={user.userPrincipalName}`,
          auth: { type: 'header', name: 'x-api-key', secretSetting: 'COMPANY_API_KEY' },
        },
      },
      claims: {
        tier: { source: 'company', path: 'tier', default: 'none' },
      },
    }),
    () => ({ COMPANY_API_KEY: 'company-secret-1' }),
  )

  const required = withEndpoint(() => ({
    sources: {
      strict: {
        type: 'http',
        url: `${api.origin}/v2/companies/{user.companyName}`,
        policy: 'required',
      },
    },
    claims: { tier: { source: 'strict', path: 'tier' } },
  }))

  it('finding 2: a value ".." in a path segment does not climb out of it; the source fails', async () => {
    const claims = claimsOf(await post(it$.endpoint, withUser({ companyName: '..' })))
    expect(api.requests.map((r) => r.path)).toEqual([])
    expect(claims).toEqual({ tier: 'none' })
    expect(failures(it$.endpoint).at(-1)).toMatchObject({
      source: 'company',
      reason:
        'user.companyName cannot fill a URL path segment: it is "." or "..", or holds "/" or "\\"',
      ms: 0,
    })
  })

  it('finding 2: a value "." in a path segment is refused as well', async () => {
    const claims = claimsOf(await post(it$.endpoint, withUser({ companyName: '.' })))
    expect(api.requests).toHaveLength(0)
    expect(claims).toEqual({ tier: 'none' })
    expect(failures(it$.endpoint).at(-1)).toMatchObject({ source: 'company' })
  })

  it('finding 2: a value with "/" or "\\" in a path segment is refused (never sent as %2F or %5C)', async () => {
    for (const companyName of ['evil.example/../admin', 'a/b', 'evil.example\\x', '/']) {
      const claims = claimsOf(await post(it$.endpoint, withUser({ companyName })))
      expect(claims, companyName).toEqual({ tier: 'none' })
    }
    expect(api.requests).toHaveLength(0)
    // Logged by field, never by value.
    expect(JSON.stringify(it$.endpoint.logs)).not.toContain('evil.example')
  })

  it('finding 2: under the required policy the call fails with 502, naming the field, not the value', async () => {
    const res = await post(required.endpoint, withUser({ companyName: '..' }))
    expect(res.status, res.text).toBe(502)
    expect(res.json).toEqual({
      error: {
        code: 'ERR_UPSTREAM_FAILED',
        message:
          'required source "strict": user.companyName cannot fill a URL path segment: it is "." or "..", or holds "/" or "\\"',
      },
    })
    expect(api.requests).toHaveLength(0)
  })

  it('finding 2: encoded dots, percent signs and other text stay inside their one segment', async () => {
    for (const companyName of ['%2e%2e', '%2F', '...', '.x', 'Contoso & Co?', 'a;b=c']) {
      api.reset()
      api.answer({ kind: 'json', body: { tier: 'gold' } })
      expect(claimsOf(await post(it$.endpoint, withUser({ companyName }))), companyName).toEqual({
        tier: 'gold',
      })
      const [request] = api.requests
      const url = new URL(request?.path ?? '', api.origin)
      const segments = url.pathname.split('/')
      expect(segments, companyName).toHaveLength(5)
      expect(decodeURIComponent(segments[3] ?? ''), companyName).toBe(companyName)
      expect(request?.headers['x-api-key']).toBe('company-secret-1')
    }
  })

  it('finding 2: a value cannot add query parameters', async () => {
    const upn = 'x@example.org&role=admin&upn=boss@example.org#frag'
    claimsOf(await post(it$.endpoint, withUser({ userPrincipalName: upn })))
    const [request] = api.requests
    const query = new URL(request?.path ?? '', api.origin).searchParams
    expect([...query.keys()]).toEqual(['upn'])
    expect(query.get('upn')).toBe(upn)
  })

  it('finding 2: a value that is no valid Unicode fails the source, not the call', async () => {
    const claims = claimsOf(await post(it$.endpoint, withUser({ companyName: 'a\ud800b' })))
    expect(claims).toEqual({ tier: 'none' })
    expect(api.requests).toHaveLength(0)
    expect(failures(it$.endpoint).at(-1)).toMatchObject({
      source: 'company',
      reason: 'user.companyName cannot be URL-encoded (not valid Unicode)',
    })
  })
})

describe('finding 2, a Graph source at request time', () => {
  let tokens: TokenEndpointStandIn
  let graph: GraphStandIn
  beforeAll(async () => {
    tokens = await startTokenEndpoint()
    graph = await startGraph({ tokens })
    graph.addUser({ id: USER_ID, department: 'Sales' })
  })
  afterAll(async () => {
    await graph.close()
    await tokens.close()
  })
  beforeEach(() => {
    graph.reset()
  })

  const it$ = withEndpoint(
    () => ({
      sources: {
        profile: { type: 'graph', query: 'user', select: ['department'] },
        groups: { type: 'graph', query: 'memberOf', select: ['id'] },
      },
      claims: {
        department: { source: 'profile', path: 'department', default: 'none' },
        groups: { source: 'groups', path: 'value[].id', default: [] },
      },
    }),
    () => ({
      GRAPH_BASE_URL: graph.origin,
      AZURE_TENANT_ID: tokens.tenantId,
      AZURE_CLIENT_ID: tokens.clientId,
      AZURE_CLIENT_SECRET: tokens.clientSecret,
      AZURE_AUTHORITY_HOST: tokens.authorityHost,
    }),
  )

  it('finding 2: a user.id of "." or ".." cannot choose another Graph path', async () => {
    for (const id of ['.', '..', 'a/b', 'a\\b']) {
      const claims = claimsOf(await post(it$.endpoint, withUser({ id })))
      expect(claims, id).toEqual({ department: 'none', groups: [] })
    }
    expect(graph.requests.map((r) => r.path)).toEqual([])
    expect(failures(it$.endpoint).at(-1)).toMatchObject({
      reason: 'user.id cannot fill a URL path segment: it is "." or "..", or holds "/" or "\\"',
    })
  })

  it('finding 2: the fixture user still gets their Graph claims', async () => {
    expect(claimsOf(await post(it$.endpoint))).toEqual({ department: 'Sales', groups: [] })
    expect(graph.requests.map((r) => r.path)).toContain(`/v1.0/users/${USER_ID}`)
  })
})
