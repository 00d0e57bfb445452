// The bulk import against the Graph stand-in (users on the shared core), in this process with the
// real Graph client and an injected sleep: a few thousand users through $batch with throttling,
// a re-run that skips everyone, a dry run, failures by line, a whole $batch failing.
import { ClientSecretCredential } from '@azure/identity'
import bcrypt from 'bcryptjs'
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readHashesFile } from '../../src/passwords/hashes-file.js'
import { meetsEntraPolicy } from '../../src/passwords/strength.js'
import { createGraphClient, type GraphClient } from '../../tools/graph/client.js'
import { openJsonLinesHashStore } from '../../tools/import-users/hash-store.js'
import { parseUsers, type UserToImport } from '../../tools/import-users/read-users.js'
import { runImport, type ImportOptions } from '../../tools/import-users/run-import.js'
import { startGraphStandIn, type GraphStandInCore } from '../support/graph-stand-in/core.js'
import { usersResource, type UsersResource } from '../support/graph-stand-in/users.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'

const DOMAIN = 'contoso.onmicrosoft.com'
const FLAG = 'extension_0a1b2c3d4e5f40718293a4b5c6d7e8f9_toBeMigrated'
const LEGACY_PASSWORD = 'Legacy-pass-1'
const REAL_HASH = bcrypt.hashSync(LEGACY_PASSWORD, 4)
const SALT = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** A syntactically valid bcrypt hash, different per user (only user 1's is checked for real). */
const fakeHash = (n: number) =>
  `$2b$04$${Array.from({ length: 53 }, (_, i) => SALT[(n * 7 + i * 13) % SALT.length]).join('')}`

function input(count: number, from = 1): UserToImport[] {
  const lines = Array.from({ length: count }, (_, i) => {
    const n = from + i
    return n % 10 === 0
      ? JSON.stringify({ username: `member-${n}`, hash: fakeHash(n) })
      : JSON.stringify({
          email: `user${n}@example.org`,
          displayName: `User ${n}`,
          hash: n === 1 ? REAL_HASH : fakeHash(n),
        })
  })
  const { users, problems } = parseUsers(lines.join('\n'))
  expect(problems).toEqual([])
  return users
}

let tokens: TokenEndpointStandIn
let users: UsersResource
let graph: GraphStandInCore
let client: GraphClient
let waits: number[]
let dir: string

beforeAll(async () => {
  tokens = await startTokenEndpoint({ roles: ['User.ReadWrite.All'] })
  users = usersResource({ primaryDomain: DOMAIN, extensionProperties: { [FLAG]: 'Boolean' } })
  graph = await startGraphStandIn({ tokens, resources: [users] })
  client = createGraphClient({
    baseUrl: graph.origin,
    credential: new ClientSecretCredential(tokens.tenantId, tokens.clientId, tokens.clientSecret, {
      authorityHost: tokens.authorityHost,
      disableInstanceDiscovery: true,
    }),
    sleep: (ms) => {
      waits.push(ms)
      return Promise.resolve()
    },
  })
  const parent = process.env.TEST_TMP_DIR ?? tmpdir()
  mkdirSync(parent, { recursive: true })
  dir = mkdtempSync(join(parent, 'import-users-'))
})
afterAll(async () => {
  await graph.close()
  await tokens.close()
})
beforeEach(() => {
  graph.reset()
  waits = []
})

const run = (options: Partial<ImportOptions> & Pick<ImportOptions, 'users'>) =>
  runImport({
    graph: client,
    issuer: DOMAIN,
    migrationProperty: FLAG,
    store: undefined,
    dryRun: false,
    ...options,
  })

const batches = () => graph.requests.filter((r) => r.path === '/v1.0/$batch')
const creates = () => graph.calls.filter((c) => c.method === 'POST' && c.path === '/v1.0/users')

describe('runImport', () => {
  const hashes = () => join(dir, 'hashes.jsonl')
  const first = input(3000)

  it('creates 3000 users through $batch, 20 a call, waiting out Retry-After on throttled items', async () => {
    graph.fault({
      status: 429,
      path: '/v1.0/users',
      method: 'POST',
      every: 7,
      times: Infinity,
      retryAfterSeconds: 3,
    })
    graph.fault({ status: 429, path: '/v1.0/users', method: 'GET', every: 50, times: 5 })
    const progress: number[] = []
    const summary = await run({
      users: first,
      store: openJsonLinesHashStore(hashes()),
      onProgress: (p) => progress.push(p.done),
    })

    expect(summary).toMatchObject({
      total: 3000,
      done: 3000,
      created: 3000,
      existing: 0,
      failed: 0,
      hashesWritten: 3000,
      failures: [],
    })
    expect(summary.stoppedBy).toBeUndefined()
    expect(progress).toHaveLength(150)
    expect(progress.at(-1)).toBe(3000)
    // Throttled items are retried after their own Retry-After (3 s for creates, 1 s for lookups).
    expect(new Set(waits)).toEqual(new Set([3000, 1000]))
    const throttled = graph.calls.filter((c) => c.status === 429)
    expect(throttled.length).toBeGreaterThan(400)
    expect(creates().filter((c) => c.status === 201)).toHaveLength(3000)
    // 150 lookups and 150 creates, plus one smaller batch per round of throttled items.
    expect(batches().length).toBe(300 + waits.length)
    expect(batches().every((b) => b.status === 200)).toBe(true)

    expect(users.users).toHaveLength(3000)
    const passwords = new Set(users.users.map((u) => u.passwordProfile?.password))
    expect(passwords.size).toBe(3000)
    for (const user of users.users) {
      expect(user[FLAG]).toBe(true)
      expect(user.creationType).toBe('LocalAccount')
      expect(user.passwordProfile?.forceChangePasswordNextSignIn).toBe(false)
      expect(meetsEntraPolicy(user.passwordProfile?.password ?? '')).toBe(true)
      expect(user.identities[0]?.issuer).toBe(DOMAIN)
    }
    const ada = users.byIdentity(DOMAIN, 'user1@example.org')
    expect(ada).toMatchObject({ displayName: 'User 1', mail: 'user1@example.org' })
    expect(ada?.identities[0]).toEqual({
      signInType: 'emailAddress',
      issuer: DOMAIN,
      issuerAssignedId: 'user1@example.org',
    })
    expect(users.byIdentity(DOMAIN, 'member-10')).toMatchObject({
      displayName: 'member-10',
      mail: null,
      identities: [{ signInType: 'userName', issuer: DOMAIN, issuerAssignedId: 'member-10' }, {}],
    })

    // The endpoint reads the store it wrote, and user 1's legacy password verifies.
    const problems: string[] = []
    const stored = readHashesFile(hashes(), problems)
    expect(problems).toEqual([])
    expect(stored?.size).toBe(3000)
    expect(await stored?.get('user1@example.org')?.verify(LEGACY_PASSWORD)).toBe(true)
  })

  it('a re-run finds every user by their identity, creates none and leaves the store as it was', async () => {
    const before = readFileSync(hashes(), 'utf8')
    const summary = await run({ users: first, store: openJsonLinesHashStore(hashes()) })
    expect(summary).toMatchObject({ created: 0, existing: 3000, failed: 0, batches: 150 })
    expect(creates()).toHaveLength(0)
    expect(users.users).toHaveLength(3000)
    expect(readFileSync(hashes(), 'utf8')).toBe(before)
  })

  it('a dry run looks users up, creates none and writes nothing', async () => {
    const summary = await run({ users: [...first.slice(0, 40), ...input(25, 5001)], dryRun: true })
    expect(summary).toMatchObject({ dryRun: true, existing: 40, toCreate: 25, created: 0 })
    expect(creates()).toHaveLength(0)
    expect(graph.calls.filter((c) => c.method === 'GET' && c.path === '/v1.0/users')).toHaveLength(
      65,
    )
  })

  it('reports failed creates by line, status, code and request id, and a re-run creates only those', async () => {
    const more = input(100, 6001)
    graph.fault({
      status: 400,
      code: 'Request_BadRequest',
      path: '/v1.0/users',
      method: 'POST',
      every: 10,
      times: Infinity,
    })
    graph.fault({ status: 503, path: '/v1.0/users', method: 'POST', times: 1 })
    const store = join(dir, 'more.jsonl')
    const summary = await run({ users: more, store: openJsonLinesHashStore(store) })
    expect(summary.failed).toBe(11)
    expect(summary.created).toBe(89)
    expect(summary.hashesWritten).toBe(89)
    // A 503 on a create is not retried: it may have been done (a re-run finds it if it was).
    expect(waits).toEqual([])
    expect(summary.failures[0]).toEqual({
      line: 1,
      stage: 'create',
      status: 503,
      code: 'ServiceNotAvailable',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    })
    expect(summary.failures.filter((f) => f.status === 400)).toHaveLength(10)
    const text = JSON.stringify(summary)
    for (const user of more) {
      expect(text).not.toContain(user.signInName)
      expect(text).not.toContain(user.hash)
    }

    graph.clearFaults()
    const again = await run({ users: more, store: openJsonLinesHashStore(store) })
    expect(again).toMatchObject({ created: 11, existing: 89, failed: 0, hashesWritten: 100 })
    expect(readFileSync(store, 'utf8').trim().split('\n')).toHaveLength(100)
  })

  it('finds a sign-in name with a quote on a re-run, and replaces a changed hash in the store', async () => {
    const store = join(dir, 'quotes.jsonl')
    const lines = (hash: string) =>
      [
        JSON.stringify({ email: "o'brien@example.org", hash: fakeHash(1) }),
        JSON.stringify({ email: 'dana@example.org', hash }),
      ].join('\n')
    const once = parseUsers(lines(fakeHash(2))).users
    expect(await run({ users: once, store: openJsonLinesHashStore(store) })).toMatchObject({
      created: 2,
    })
    const changed = parseUsers(lines(REAL_HASH)).users
    expect(await run({ users: changed, store: openJsonLinesHashStore(store) })).toMatchObject({
      created: 0,
      existing: 2,
    })
    const problems: string[] = []
    const stored = readHashesFile(store, problems)
    expect(problems).toEqual([])
    expect(stored?.size).toBe(2)
    expect(await stored?.get('dana@example.org')?.verify(LEGACY_PASSWORD)).toBe(true)
    expect(users.byIdentity(DOMAIN, "O'Brien@example.org")?.displayName).toBe("o'brien")
  })

  it('stops at a $batch that fails as a whole, naming its status and request id', async () => {
    graph.fault({ status: 500, path: '/v1.0/$batch', times: 1 })
    const summary = await run({ users: input(60, 8001), dryRun: true })
    expect(summary.done).toBe(20)
    expect(summary.failures).toHaveLength(20)
    expect(summary.failures[0]).toMatchObject({ line: 1, stage: 'lookup', status: 500 })
    expect(summary.stoppedBy).toMatch(
      /^POST \/v1\.0\/\$batch: HTTP 500 UnknownError \[request-id [0-9a-f-]{36}, client-request-id [0-9a-f-]{36}\]$/,
    )
    expect(batches()).toHaveLength(1)
  })
})
