// The loopback HTTPS stand-ins, driven by the real clients the product uses: @azure/identity
// (MSAL) against the token endpoint, the global fetch against Graph, and a child process.
import { ClientCertificateCredential, ClientSecretCredential } from '@azure/identity'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { directoryRole, group, startGraph, type GraphStandIn } from './support/graph-server.js'
import { startGraphStandIn, type GraphStandInCore } from './support/graph-stand-in/core.js'
import { usersResource } from './support/graph-stand-in/users.js'
import { clientCertificate, tlsEnv } from './support/test-ca.js'
import {
  GRAPH_SCOPE,
  startTokenEndpoint,
  type TokenEndpointStandIn,
} from './support/token-endpoint.js'

const COST_CENTER = 'extension_0a1b2c3d4e5f40718293a4b5c6d7e8f9_costCenter'
const ADA = '7d9a2f3e-1c4b-4e8a-9f6d-2b3c4d5e6f70'
const GRACE = '0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f'

let tokens: TokenEndpointStandIn
let graph: GraphStandIn

beforeAll(async () => {
  tokens = await startTokenEndpoint()
  graph = await startGraph({ tokens, pageSize: 2 })
  graph.addUser({ id: GRACE, displayName: 'Grace Hopper', mail: 'grace@contoso.example' })
  graph.addUser(
    {
      id: ADA,
      userPrincipalName: 'ada@contoso.example',
      displayName: 'Ada Lovelace',
      jobTitle: 'Analyst',
      [COST_CENTER]: 'CC-1815',
    },
    {
      memberOf: [
        group('g-1', 'Engineering'),
        directoryRole('r-1', 'Global Reader'),
        group('g-2', 'Analysts'),
        group('g-3', 'London'),
        group('g-4', 'All staff'),
      ],
      manager: GRACE,
    },
  )
})
afterAll(async () => {
  await graph.close()
  await tokens.close()
})
afterEach(() => {
  graph.reset()
  tokens.reset()
})

const credential = () =>
  new ClientSecretCredential(tokens.tenantId, tokens.clientId, tokens.clientSecret, {
    authorityHost: tokens.authorityHost,
    disableInstanceDiscovery: true,
  })

async function graphToken(): Promise<string> {
  return (await credential().getToken(GRAPH_SCOPE)).token
}

/** The parts of Graph's answers these tests look at. */
interface GraphJson {
  readonly value: { readonly id: string }[]
  readonly '@odata.nextLink'?: string
  readonly error: { readonly code: string }
  readonly responses?: unknown
  readonly [property: string]: unknown
}

async function get(path: string, token: string | null, signal?: AbortSignal) {
  const url = path.startsWith('https:') ? path : `${graph.origin}/v1.0${path}`
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` }
  const res = await fetch(url, { headers, signal })
  return { status: res.status, headers: res.headers, json: (await res.json()) as GraphJson }
}

describe('the test CA', () => {
  async function fetchFromChild(env: NodeJS.ProcessEnv): Promise<string> {
    const script =
      'fetch(process.argv[1]).then((r) => console.log(r.status), (e) => console.log(e.cause.code))'
    const child = spawn(process.execPath, ['-e', script, `${graph.origin}/v1.0/users/${ADA}`], {
      env,
    })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    await once(child, 'exit')
    return out.trim()
  }

  it('is trusted by this worker, and by what it spawns through NODE_EXTRA_CA_CERTS', async () => {
    expect((await get(`/users/${ADA}`, null)).status).toBe(401) // an HTTP answer, not a TLS error
    expect(await fetchFromChild({ PATH: process.env.PATH, ...tlsEnv() })).toBe('401')
    expect(await fetchFromChild({ PATH: process.env.PATH })).toMatch(/CERT|SIGNATURE/)
  })
})

describe('the token endpoint stand-in', () => {
  it('serves ClientSecretCredential, which then answers from its cache', async () => {
    const cred = credential()
    const first = await cred.getToken(GRAPH_SCOPE)
    const second = await cred.getToken(GRAPH_SCOPE)
    expect(second.token).toBe(first.token)
    expect(tokens.hits).toBe(1)
    expect(tokens.scopes).toEqual([GRAPH_SCOPE])
    expect(tokens.tokenRequests[0]).toMatchObject({
      grantType: 'client_credentials',
      clientId: tokens.clientId,
      clientAuth: 'secret',
    })
    expect(tokens.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /${tokens.tenantId}/v2.0/.well-known/openid-configuration`,
      `POST /${tokens.tenantId}/oauth2/v2.0/token`,
    ])
    const check = await tokens.verifyAccessToken(first.token)
    expect(check.ok && check.claims.appid).toBe(tokens.clientId)
  })

  it('serves ClientCertificateCredential, checking the signed assertion', async () => {
    const { certificate, pem } = await clientCertificate()
    const clientId = 'c0ffee00-1111-4222-8333-444455556666'
    tokens.addClient({ clientId, certificate })
    const cred = new ClientCertificateCredential(
      tokens.tenantId,
      clientId,
      { certificate: pem },
      { authorityHost: tokens.authorityHost, disableInstanceDiscovery: true },
    )
    const { token } = await cred.getToken(GRAPH_SCOPE)
    expect((await tokens.verifyAccessToken(token)).ok).toBe(true)
    expect(tokens.tokenRequests[0]?.clientAuth).toBe('assertion')
  })

  it('fails with invalid_client, once, as told', async () => {
    tokens.mode = { kind: 'fail', status: 400 }
    await expect(credential().getToken(GRAPH_SCOPE)).rejects.toThrow(
      /invalid_client.*AADSTS7000215/s,
    )
    expect(tokens.hits).toBe(1)
  })

  it('hangs until closed (getToken ignores its abortSignal: callers must time it out)', async () => {
    const hanging = await startTokenEndpoint()
    hanging.mode = { kind: 'hang' }
    const cred = new ClientSecretCredential(
      hanging.tenantId,
      hanging.clientId,
      hanging.clientSecret,
      {
        authorityHost: hanging.authorityHost,
        disableInstanceDiscovery: true,
        retryOptions: { maxRetries: 0 },
      },
    )
    const attempt = cred.getToken(GRAPH_SCOPE, { abortSignal: AbortSignal.timeout(50) })
    const outcome = await Promise.race([
      attempt.then(
        () => 'token',
        () => 'rejected',
      ),
      new Promise((resolve) => setTimeout(resolve, 500, 'still waiting')),
    ])
    expect(outcome).toBe('still waiting')
    expect(hanging.hits).toBe(1)
    await hanging.close()
    await expect(attempt).rejects.toThrow()
  })
})

describe('the Graph stand-in', () => {
  it('answers a user with only the $select-ed properties, extensions included', async () => {
    const token = await graphToken()
    const res = await get(`/users/${ADA}?$select=displayName,${COST_CENTER},department`, token)
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      '@odata.context': expect.stringContaining('/v1.0/$metadata#users('),
      id: ADA,
      displayName: 'Ada Lovelace',
      [COST_CENTER]: 'CC-1815',
      department: null,
    })
    const manager = await get(`/users/ada@contoso.example/manager?$select=displayName`, token)
    expect(manager.json).toMatchObject({ id: GRACE, displayName: 'Grace Hopper' })
    expect((await get(`/users/${GRACE}/manager`, token)).status).toBe(404)
    const missing = await get('/users/nobody', token)
    expect(missing.status).toBe(404)
    expect(missing.json.error.code).toBe('Request_ResourceNotFound')
  })

  it('refuses requests without a token from the token endpoint', async () => {
    const none = await get(`/users/${ADA}`, null)
    expect(none.status).toBe(401)
    expect(none.json.error.code).toBe('InvalidAuthenticationToken')
    expect((await get(`/users/${ADA}`, 'not-a-token')).status).toBe(401)
  })

  it('pages memberOf by @odata.nextLink, keeping $select and $top', async () => {
    const token = await graphToken()
    const seen: unknown[] = []
    let next: string | undefined = `/users/${ADA}/memberOf?$select=id,displayName&$top=2`
    while (next !== undefined) {
      const res = await get(next, token)
      expect(res.status).toBe(200)
      seen.push(...res.json.value)
      next = res.json['@odata.nextLink']
      if (next !== undefined) expect(next).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/.*\$top=2/)
    }
    expect(graph.hits(`/v1.0/users/${ADA}/memberOf`)).toBe(3)
    expect(seen).toHaveLength(5)
    expect(seen[1]).toEqual({
      '@odata.type': '#microsoft.graph.directoryRole',
      id: 'r-1',
      displayName: 'Global Reader',
    })
    const groups = await get(
      `/users/${ADA}/transitiveMemberOf/microsoft.graph.group?$top=10`,
      token,
    )
    expect(groups.json.value.map((g) => g.id)).toEqual(['g-1', 'g-2', 'g-3', 'g-4'])
  })

  it('throttles with 429 and Retry-After for the next request on a path', async () => {
    const token = await graphToken()
    graph.fault(
      { kind: 'status', status: 429, retryAfterSeconds: 7 },
      { path: `/v1.0/users/${ADA}`, times: 1 },
    )
    const throttled = await get(`/users/${ADA}`, token)
    expect(throttled.status).toBe(429)
    expect(throttled.headers.get('retry-after')).toBe('7')
    expect(throttled.json.error.code).toBe('TooManyRequests')
    expect((await get(`/users/${ADA}`, token)).status).toBe(200)
  })

  it('hangs until the caller aborts, and sees the connection close', async () => {
    const token = await graphToken()
    graph.fault({ kind: 'hang' })
    await expect(get(`/users/${ADA}`, token, AbortSignal.timeout(200))).rejects.toThrow(
      /aborted|timeout/i,
    )
    const [request] = graph.requests
    await request?.done
    expect(request).toMatchObject({ aborted: true, status: undefined })
  })
})

describe('the Graph stand-in core, with the users resource', () => {
  const DOMAIN = 'contoso.onmicrosoft.com'
  const FLAG = 'extension_0a1b2c3d4e5f40718293a4b5c6d7e8f9_toBeMigrated'
  let core: GraphStandInCore

  beforeAll(async () => {
    core = await startGraphStandIn({
      tokens,
      resources: [
        usersResource({ primaryDomain: DOMAIN, extensionProperties: { [FLAG]: 'Boolean' } }),
      ],
    })
  })
  afterAll(() => core.close())

  const user = (more: object = {}) => ({
    displayName: 'Avery',
    identities: [
      { signInType: 'emailAddress', issuer: DOMAIN, issuerAssignedId: 'avery@example.org' },
    ],
    passwordProfile: { password: 'Temporary-Pass-123', forceChangePasswordNextSignIn: false },
    [FLAG]: true,
    ...more,
  })

  async function call(method: string, path: string, body?: unknown, token?: string | null) {
    const bearer = token === undefined ? await graphToken() : token
    const res = await fetch(`${core.origin}${path}`, {
      method,
      headers: {
        ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    return { status: res.status, headers: res.headers, json: (await res.json()) as GraphJson }
  }

  it('refuses a create body that v1.0 users, identities or the password rule refuse, with Graph errors', async () => {
    const refusals: [object, RegExp][] = [
      [
        { creationType: 'LocalAccount' },
        /'creationType' does not exist on type 'microsoft.graph.user'/,
      ],
      [{ extension_0a1b2c3d4e5f40718293a4b5c6d7e8f9_other: 1 }, /does not exist/],
      [{ [FLAG]: 'yes' }, /is not a Boolean/],
      [{ passwordProfile: { password: 'weakpass' } }, /password complexity/],
      [
        { passwordProfile: { password: 'Temporary-Pass-123', mustChange: true } },
        /passwordProfile/,
      ],
      [
        {
          identities: [
            {
              signInType: 'emailAddress',
              issuer: 'other.example',
              issuerAssignedId: 'a@b.example',
            },
          ],
        },
        /domain of the tenant/,
      ],
      [
        { identities: [{ signInType: 'userName', issuer: DOMAIN, issuerAssignedId: 'a b' }] },
        /userName/,
      ],
      [{ identities: [] }, /needs identities/],
    ]
    for (const [change, message] of refusals) {
      const res = await call('POST', '/v1.0/users', user(change))
      expect(res.status, JSON.stringify(change)).toBe(400)
      expect(res.json.error).toMatchObject({
        code: 'Request_BadRequest',
        message: expect.stringMatching(message),
      })
    }
    const created = await call('POST', '/v1.0/users', user())
    expect(created.status).toBe(201)
    expect(created.json).toMatchObject({
      displayName: 'Avery',
      userPrincipalName: expect.stringContaining(`@${DOMAIN}`),
    })
    const again = await call('POST', '/v1.0/users', user({ displayName: 'Other' }))
    expect(again.json.error.code).toBe('Request_BadRequest')
    expect(again.json.error).toMatchObject({
      message: expect.stringMatching(/same value for property identities/),
    })
  })

  it('finds a user by identity, with $select; other filters and options answer 400', async () => {
    const filter = `identities/any(x:x/issuer eq '${DOMAIN}' and x/issuerAssignedId eq 'AVERY@example.org')`
    const found = await call(
      'GET',
      `/v1.0/users?$filter=${encodeURIComponent(filter)}&$select=id,${FLAG}`,
    )
    expect(found.status).toBe(200)
    expect(found.json.value).toEqual([{ id: expect.any(String), [FLAG]: true }])
    const other = await call(
      'GET',
      `/v1.0/users?$filter=${encodeURIComponent("displayName eq 'Avery'")}`,
    )
    expect(other.json.error.code).toBe('Request_UnsupportedQuery')
    expect((await call('GET', '/v1.0/users?$count=true')).json.error.code).toBe(
      'Request_UnsupportedQuery',
    )
  })

  it('answers 401 with WWW-Authenticate and request ids without a token', async () => {
    const res = await call('GET', '/v1.0/users', undefined, null)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /)
    expect(res.json.error.code).toBe('InvalidAuthenticationToken')
    expect(res.json.error).toMatchObject({
      innerError: { 'request-id': res.headers.get('request-id') },
    })
  })

  it('$batch: 1-20 requests with unique ids, each answered on its own, faults included', async () => {
    core.fault({ status: 429, path: '/v1.0/users', method: 'GET', retryAfterSeconds: 5 })
    const res = await call('POST', '/v1.0/$batch', {
      requests: [
        { id: '1', method: 'GET', url: '/users?$top=1' },
        { id: '2', method: 'GET', url: 'users?$top=1' },
        {
          id: '3',
          method: 'POST',
          url: '/users',
          body: user({ displayName: '' }),
          headers: { 'content-type': 'application/json' },
        },
      ],
    })
    expect(res.status).toBe(200)
    const responses = res.json.responses as {
      id: string
      status: number
      headers: Record<string, string>
    }[]
    expect(responses.map((r) => [r.id, r.status])).toEqual([
      ['3', 400],
      ['2', 200],
      ['1', 429],
    ])
    expect(responses[2]?.headers['retry-after']).toBe('5')
    const tooMany = Array.from({ length: 21 }, (_, i) => ({
      id: String(i),
      method: 'GET',
      url: '/users',
    }))
    expect((await call('POST', '/v1.0/$batch', { requests: tooMany })).status).toBe(400)
    const twice = [
      { id: 'a', method: 'GET', url: '/users' },
      { id: 'a', method: 'GET', url: '/users' },
    ]
    expect((await call('POST', '/v1.0/$batch', { requests: twice })).status).toBe(400)
    const depends = [{ id: 'a', method: 'GET', url: '/users', dependsOn: ['b'] }]
    expect((await call('POST', '/v1.0/$batch', { requests: depends })).status).toBe(400)
  })
})
