// The operator tools' Graph client against the Graph stand-in (users, and a few odd answers a
// real Graph could give), signed in through @azure/identity against the token endpoint stand-in;
// time is injected (sleep) except for the one per-request timeout.
import { ClientSecretCredential } from '@azure/identity'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createGraphClient, type GraphRetry } from '../../tools/graph/client.js'
import { retryAfterMs } from '../../src/outbound/retry-after.js'
import { GraphError } from '../../tools/graph/graph-error.js'
import { startGraphStandIn, type GraphStandInCore } from '../support/graph-stand-in/core.js'
import type { GraphResource } from '../support/graph-stand-in/graph-answers.js'
import { usersResource, type UsersResource } from '../support/graph-stand-in/users.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'

const DOMAIN = 'contoso.onmicrosoft.com'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Answers a well-behaved client should refuse or stop at. */
const odd: GraphResource = {
  routes: [
    {
      method: 'GET',
      path: /^\/v1\.0\/odd\/foreign$/,
      answer: () => ({
        status: 200,
        body: { value: [1], '@odata.nextLink': 'https://graph.evil.example/v1.0/odd/foreign' },
      }),
    },
    {
      method: 'GET',
      path: /^\/beta\/odd\/endless$/,
      query: ['$skiptoken'],
      answer: (call, _match, origin) => {
        const n = Number(call.query.get('$skiptoken') ?? 0)
        return {
          status: 200,
          body: { value: [n], '@odata.nextLink': `${origin}/beta/odd/endless?$skiptoken=${n + 1}` },
        }
      },
    },
  ],
}

let tokens: TokenEndpointStandIn
let users: UsersResource
let graph: GraphStandInCore
let waits: number[]
let retries: GraphRetry[]

const credential = (secret = tokens.clientSecret) =>
  new ClientSecretCredential(tokens.tenantId, tokens.clientId, secret, {
    authorityHost: tokens.authorityHost,
    disableInstanceDiscovery: true,
    retryOptions: { maxRetries: 0 },
  })

const client = (options: { maxRetries?: number; timeoutMs?: number; maxPages?: number } = {}) =>
  createGraphClient({
    baseUrl: graph.origin,
    credential: credential(),
    sleep: (ms) => {
      waits.push(ms)
      return Promise.resolve()
    },
    onRetry: (retry) => retries.push(retry),
    ...options,
  })

const body = (n: number) => ({
  displayName: `User ${n}`,
  identities: [
    { signInType: 'emailAddress', issuer: DOMAIN, issuerAssignedId: `user${n}@example.org` },
  ],
  passwordProfile: { password: 'Temporary-Pass-123', forceChangePasswordNextSignIn: false },
})

beforeAll(async () => {
  tokens = await startTokenEndpoint()
  users = usersResource({ primaryDomain: DOMAIN, pageSize: 2 })
  graph = await startGraphStandIn({ tokens, resources: [users, odd] })
})
afterAll(async () => {
  await graph.close()
  await tokens.close()
})
beforeEach(() => {
  graph.reset()
  waits = []
  retries = []
})

describe('createGraphClient', () => {
  it('signs in for the origin, creates and reads with $select, and sends a client-request-id', async () => {
    const graphClient = client()
    const created = await graphClient.post<{ id: string }>('/v1.0/users', body(1))
    expect(created?.id).toMatch(UUID)
    const read = await graphClient.get(`/v1.0/users/${created?.id}`, { select: ['displayName'] })
    expect(read).toEqual({
      '@odata.context': `${graph.origin}/v1.0/$metadata#users/$entity`,
      id: created?.id,
      displayName: 'User 1',
    })
    expect(tokens.scopes.at(-1)).toBe(`${graph.origin}/.default`)
    expect(graph.requests.map((r) => r.headers['client-request-id'])).toEqual([
      expect.stringMatching(UUID),
      expect.stringMatching(UUID),
    ])
    expect(await graphClient.find('/v1.0/users/00000000-0000-4000-8000-000000000000')).toBe(
      undefined,
    )
  })

  it('follows @odata.nextLink page by page, and stops at the page cap or a link off Graph', async () => {
    const graphClient = client({ maxPages: 3 })
    for (const n of [2, 3, 4, 5]) await graphClient.post('/v1.0/users', body(n))
    const listed = await graphClient.list<{ displayName: string }>('/v1.0/users', {
      select: ['displayName'],
    })
    expect(listed.map((u) => u.displayName)).toEqual([
      'User 1',
      'User 2',
      'User 3',
      'User 4',
      'User 5',
    ])
    const pages = graph.requests.filter((r) => r.method === 'GET')
    expect(pages.map((r) => r.query.get('$skiptoken'))).toEqual([null, '2', '4'])
    expect(pages.every((r) => r.query.get('$select') === 'displayName')).toBe(true)

    await expect(graphClient.list('/beta/odd/endless')).rejects.toMatchObject({
      failure: 'paging',
      message: 'GET /beta/odd/endless: more than 3 pages, stopped',
    })
    await expect(graphClient.list('/v1.0/odd/foreign')).rejects.toMatchObject({
      failure: 'paging',
      message: `GET /v1.0/odd/foreign: @odata.nextLink on page 1 leaves ${graph.origin}: not followed`,
    })
    const first = await graphClient.pages('/beta/odd/endless').next()
    expect(first.value).toEqual({ value: [0], page: 1, hasMore: true })
  })

  it('waits out Retry-After on a 429 with the injected sleep, then succeeds', async () => {
    graph.fault({ status: 429, retryAfterSeconds: 7, times: 2 })
    const listed = await client().list('/v1.0/users')
    expect(listed.length).toBeGreaterThan(0)
    expect(waits).toEqual([7000, 7000])
    expect(retries[1]).toEqual({
      method: 'GET',
      path: '/v1.0/users',
      status: 429,
      waitMs: 7000,
      attempt: 2,
    })
    expect(
      retryAfterMs('Wed, 21 Oct 2026 07:28:30 GMT', 1000, Date.parse('2026-10-21T07:28:00Z')),
    ).toBe(30_000)
    expect(retryAfterMs(null, 1000)).toBe(1000)
    expect(retryAfterMs('soon', 1000)).toBe(1000)
  })

  it('gives up after maxRetries with one GraphError: status, code, request ids, no query', async () => {
    graph.fault({ status: 429, retryAfterSeconds: 1, times: 10 })
    const filter = "identities/any(c:c/issuerAssignedId eq 'user1@example.org' and c/issuer eq 'x')"
    const error = await client({ maxRetries: 2 })
      .list(`/v1.0/users?$filter=${encodeURIComponent(filter)}`)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GraphError)
    const last = graph.requests.at(-1)
    expect(error).toMatchObject({
      name: 'GraphError',
      failure: 'status',
      status: 429,
      code: 'TooManyRequests',
      retries: 2,
      requestId: expect.stringMatching(UUID),
      clientRequestId: last?.headers['client-request-id'],
      graphMessage: 'Too many requests.',
    })
    const { requestId, clientRequestId } = error as GraphError
    expect((error as GraphError).message).toBe(
      `GET /v1.0/users: HTTP 429 TooManyRequests (still throttled after 2 retries) [request-id ${requestId}, client-request-id ${clientRequestId}]`,
    )
    expect(graph.requests).toHaveLength(3)
  })

  it('hides path segments that hold data, and never repeats a POST on a 503', async () => {
    const missing = await client()
      .get('/v1.0/users/ada@contoso.example')
      .catch((e: unknown) => e)
      .then((e) => e as GraphError)
    expect(missing.message).toMatch(
      /^GET \/v1\.0\/users\/\{…\}: HTTP 404 Request_ResourceNotFound \[/,
    )
    expect(missing.message).not.toContain('ada')

    graph.reset()
    graph.fault({ status: 503, times: 2 })
    await expect(client().post('/v1.0/users', body(6))).rejects.toMatchObject({ status: 503 })
    expect(graph.requests).toHaveLength(1)
    expect(await client().get('/v1.0/users')).toMatchObject({ value: expect.any(Array) })
    expect(waits).toEqual([1000])
  })

  it('ends a request that takes longer than timeoutMs', async () => {
    graph.fault({ delayMs: 2000, path: '/v1.0/users' })
    await expect(client({ timeoutMs: 100 }).get('/v1.0/users')).rejects.toMatchObject({
      failure: 'timeout',
      message: 'GET /v1.0/users: no answer within 100 ms',
    })
  })

  it('turns a failed sign-in into a GraphError without the secret', async () => {
    const graphClient = createGraphClient({
      baseUrl: graph.origin,
      credential: credential('wrong-secret-value'),
    })
    const error = await graphClient
      .get('/v1.0/users')
      .catch((e: unknown) => e)
      .then((e) => e as GraphError)
    expect(error).toBeInstanceOf(GraphError)
    expect(error.failure).toBe('token')
    expect(error.message).toMatch(/^GET \/v1\.0\/users: no Graph access token: .*invalid_client/)
    expect(error.message).not.toContain('wrong-secret-value')
    expect(graph.requests).toHaveLength(0)
  })

  it('$batch: answers in request order, sends throttled items again after their longest Retry-After', async () => {
    const graphClient = client({ maxRetries: 2 })
    graph.fault({
      status: 429,
      path: '/v1.0/users',
      method: 'POST',
      every: 2,
      times: 2,
      retryAfterSeconds: 4,
    })
    graph.fault({ status: 429, path: '/v1.0/users', method: 'GET', retryAfterSeconds: 9, times: 3 })
    const results = await graphClient.batch('v1.0', [
      { id: 'a', method: 'POST', url: '/users', body: body(7) },
      { id: 'b', method: 'POST', url: '/users', body: body(8) },
      { id: 'c', method: 'GET', url: '/users?$top=1' },
      { id: 'd', method: 'POST', url: '/users', body: body(9) },
      { id: 'e', method: 'POST', url: '/users', body: body(10) },
    ])
    expect(results.map((r) => [r.id, r.status, r.retries])).toEqual([
      ['a', 201, 0],
      ['b', 201, 1],
      ['c', 429, 2],
      ['d', 201, 0],
      ['e', 201, 1],
    ])
    expect(results[2]?.headers['retry-after']).toBe('9')
    expect(waits).toEqual([9000, 9000])
    expect(retries.map((r) => r.items)).toEqual([3, 1])
    expect(graph.requests.map((r) => r.path)).toEqual([
      '/v1.0/$batch',
      '/v1.0/$batch',
      '/v1.0/$batch',
    ])
    const tooMany = Array.from({ length: 21 }, (_, i) => ({
      id: String(i),
      method: 'GET' as const,
      url: '/users',
    }))
    await expect(graphClient.batch('v1.0', tooMany)).rejects.toThrow(/at most 20/)
  })
})
