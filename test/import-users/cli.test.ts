// `npm run import-users` as an operator runs it: a child process signed in through the token
// endpoint stand-in, against the Graph stand-in (organization, users and applications on the
// shared core), writing the hashes to a file or to Azurite's Table service, where the endpoint's
// own reader (src/passwords/hash-table.ts) finds them.
import bcrypt from 'bcryptjs'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { openHashTable } from '../../src/passwords/hash-table.js'
import { readHashesFile } from '../../src/passwords/hashes-file.js'
import { B2C_EXTENSIONS_APP_NAME } from '../../tools/registration/read-tenant.js'
import { startAzurite, type Azurite } from '../support/azurite.js'
import { applicationsResource } from '../support/graph-stand-in/applications.js'
import { startGraphStandIn, type GraphStandInCore } from '../support/graph-stand-in/core.js'
import { emptyEntraState, type EntraGraphState } from '../support/graph-stand-in/directory.js'
import { organizationResource } from '../support/graph-stand-in/organization.js'
import { usersResource, type UsersResource } from '../support/graph-stand-in/users.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'
import { runCli, signedIn, type CliRun } from '../support/operator-cli.js'

const DOMAIN = 'contoso.onmicrosoft.com'
const APP_ID = '0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9'
const FLAG = 'extension_0a1b2c3d4e5f40718293a4b5c6d7e8f9_toBeMigrated'
const HASH = bcrypt.hashSync('Legacy-pass-1', 4)

let tokens: TokenEndpointStandIn
let users: UsersResource
let graph: GraphStandInCore
let dir: string
let tenant: EntraGraphState
let azurite: Azurite
const outputs: string[] = []

beforeAll(async () => {
  tokens = await startTokenEndpoint({ roles: ['User.ReadWrite.All'] })
  users = usersResource({ primaryDomain: DOMAIN, extensionProperties: { [FLAG]: 'Boolean' } })
  // The tenant's b2c-extensions-app, which holds the migration flag.
  tenant = emptyEntraState(tokens.tenantId, 'CIAM')
  tenant.applications.push(b2cExtensionsApp())
  graph = await startGraphStandIn({
    tokens,
    resources: [
      users,
      organizationResource({ tenantId: tokens.tenantId, domains: [DOMAIN, 'contoso.example'] }),
      applicationsResource({ tenant: () => tenant, pageSize: () => 100 }),
    ],
  })
  azurite = await startAzurite()
  const parent = process.env.TEST_TMP_DIR ?? tmpdir()
  mkdirSync(parent, { recursive: true })
  dir = mkdtempSync(join(parent, 'import-users-cli-'))
})
afterEach(() => graph.reset())
afterAll(async () => {
  expect(tokens.issued.length).toBeGreaterThan(0)
  for (const out of outputs) {
    for (const token of tokens.issued) expect(out).not.toContain(token)
    expect(out).not.toContain(HASH)
    expect(out).not.toMatch(/person\d+@example\.org/)
  }
  await graph.close()
  await tokens.close()
  await azurite.stop()
})

function b2cExtensionsApp() {
  return {
    id: '7d1c2b3a-0000-4000-8000-00000000b2c0',
    appId: APP_ID,
    displayName: B2C_EXTENSIONS_APP_NAME,
    identifierUris: [],
    api: {},
    requiredResourceAccess: [],
  }
}

function usersFile(name: string, count: number, from = 1): string {
  const path = join(dir, name)
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ email: `person${from + i}@example.org`, hash: HASH }),
  )
  writeFileSync(path, `${lines.join('\n')}\n`)
  return path
}

async function importUsers(...args: string[]): Promise<CliRun> {
  return importUsersWith({}, ...args)
}

async function importUsersWith(
  env: Readonly<Record<string, string>>,
  ...args: string[]
): Promise<CliRun> {
  const r = await runCli('import-users', args, {
    ...signedIn(tokens, graph.origin),
    PASSWORD_HASHES_FILE: join(dir, 'hashes.jsonl'),
    ...env,
  })
  outputs.push(r.stdout, r.stderr)
  return r
}

describe('npm run import-users', () => {
  it('imports the users with the tenant default domain as issuer, then a re-run skips them all', async () => {
    const input = usersFile('users.jsonl', 45)
    graph.fault({
      status: 429,
      path: '/v1.0/users',
      method: 'POST',
      every: 4,
      retryAfterSeconds: 0,
      times: 3,
    })
    const r = await importUsers(input, '--extensions-app-id', APP_ID)
    expect(r.stderr).toMatch(/Graph answered 429 for \d+ requests: retry 1 in 0\.0 s/)
    expect(r.code).toBe(0)
    const retries = r.stderr.match(/Graph answered 429/g)?.length
    expect(retries).toBeGreaterThan(0)
    expect(r.stdout).toBe(
      `45 users: 45 created, 0 existed already, 0 failed; 45 hashes written\n6 Graph $batch calls, ${retries} retries after throttling\n`,
    )
    expect(graph.requests[0]?.path).toBe('/v1.0/organization')
    expect(users.byIdentity(DOMAIN, 'person7@example.org')?.[FLAG]).toBe(true)
    const problems: string[] = []
    expect(readHashesFile(join(dir, 'hashes.jsonl'), problems)?.size).toBe(45)
    expect(problems).toEqual([])
    expect(readFileSync(`${input}.failures.jsonl`, 'utf8')).toBe('')

    const again = await importUsers(input, '--extensions-app-id', APP_ID, '--json')
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({
      total: 45,
      created: 0,
      existing: 45,
      failed: 0,
      failures: [],
      retries: 0,
      report: `${input}.failures.jsonl`,
    })
    expect(users.users).toHaveLength(45)
  })

  it('--dry-run creates nothing and needs no hash store', async () => {
    const input = usersFile('dry.jsonl', 30, 101)
    const r = await importUsers(
      input,
      '--migration-property',
      FLAG,
      '--issuer',
      DOMAIN,
      '--dry-run',
    )
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^dry run: 30 users, 0 exist already, 30 would be created, 0 failed\n/)
    expect(graph.calls.some((c) => c.method === 'POST' && c.path === '/v1.0/users')).toBe(false)
    expect(users.users).toHaveLength(45)
  })

  it('exits 1 and writes the failures by line, without addresses, hashes or passwords', async () => {
    const input = usersFile('some-fail.jsonl', 20, 201)
    graph.fault({ status: 400, path: '/v1.0/users', method: 'POST', every: 5, times: Infinity })
    const r = await importUsers(input, '--extensions-app-id', APP_ID, '--issuer', DOMAIN)
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('20 users: 16 created, 0 existed already, 4 failed')
    expect(r.stdout).toContain(`failures (by line): ${input}.failures.jsonl`)
    const report = readFileSync(`${input}.failures.jsonl`, 'utf8')
    outputs.push(report)
    expect(
      report
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual(
      [5, 10, 15, 20].map((line) => ({
        line,
        stage: 'create',
        status: 400,
        code: 'Request_BadRequest',
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      })),
    )
    for (const user of users.users) expect(report).not.toContain(user.passwordProfile?.password)
  })

  it('refuses an input line with an unknown hash format before calling Graph, naming the line only', async () => {
    const input = join(dir, 'bad.jsonl')
    writeFileSync(
      input,
      [
        JSON.stringify({ email: 'person301@example.org', hash: HASH }),
        '',
        JSON.stringify({
          email: 'person302@example.org',
          hash: 'md5:5f4dcc3b5aa765d61d8327deb882cf99',
        }),
        '{"email": "person303@example.org"',
      ].join('\n'),
    )
    const r = await importUsers(input, '--extensions-app-id', APP_ID)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('2 lines cannot be imported')
    expect(r.stderr).toContain('line 3: "hash" is not in a supported format')
    expect(r.stderr).toContain('line 4: not valid JSON')
    expect(r.stderr).not.toContain('5f4dcc3b')
    expect(graph.requests).toHaveLength(0)
  })

  it('--help exits 0; missing settings exit 2', async () => {
    const help = await importUsers('--help')
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^usage: npm run import-users/)
    const input = usersFile('x.jsonl', 1, 401)
    const badId = await importUsers(input, '--extensions-app-id', 'not-a-guid')
    expect(badId.code).toBe(2)
    expect(existsSync(`${input}.failures.jsonl`)).toBe(false)
    const both = await importUsersWith(
      { PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString },
      input,
      '--extensions-app-id',
      APP_ID,
    )
    expect(both.code).toBe(2)
    expect(both.stderr).toContain(
      'PASSWORD_HASHES_FILE: set it or PASSWORD_HASHES_CONNECTION_STRING, not both',
    )
    expect(graph.requests).toHaveLength(0)
  })

  it('finds the b2c-extensions-app by Graph when no app id is given, and exits 2 without one', async () => {
    const input = usersFile('no-app-id.jsonl', 3, 501)
    const r = await importUsers(input, '--issuer', DOMAIN)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^3 users: 3 created/)
    expect(users.byIdentity(DOMAIN, 'person502@example.org')?.[FLAG]).toBe(true)
    const lookup = graph.requests.find((q) => q.path === '/v1.0/applications')
    expect(lookup?.query.get('$filter')).toBe(`displayName eq '${B2C_EXTENSIONS_APP_NAME}'`)

    tenant.applications.length = 0
    const mark = graph.calls.length
    try {
      const none = await importUsers(usersFile('no-app.jsonl', 1, 511), '--issuer', DOMAIN)
      expect(none.code).toBe(2)
      expect(none.stderr).toContain('the tenant has no b2c-extensions-app')
      expect(graph.calls.slice(mark).filter((c) => c.path === '/v1.0/users')).toHaveLength(0)
    } finally {
      tenant.applications.push(b2cExtensionsApp())
    }
  })

  it('writes the hashes to the table of PASSWORD_HASHES_CONNECTION_STRING, where the endpoint reads them', async () => {
    const input = usersFile('to-table.jsonl', 25, 601)
    const env = {
      PASSWORD_HASHES_FILE: '',
      PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString,
      PASSWORD_HASHES_TABLE: 'importedhashes',
    }
    const r = await importUsersWith(env, input, '--extensions-app-id', APP_ID, '--issuer', DOMAIN)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(
      /^25 users: 25 created, 0 existed already, 0 failed; 25 hashes written\n/,
    )
    // A re-run (every user exists) writes the same rows again: still one per user.
    expect((await importUsersWith(env, input, '--extensions-app-id', APP_ID)).code).toBe(0)

    const { store, ready } = openHashTable({
      connectionString: azurite.connectionString,
      tableName: 'importedhashes',
    })
    await ready
    const call = { signal: AbortSignal.timeout(10_000), timeoutMs: 5_000 }
    const found = await store.get('person613@example.org', call)
    expect(found).toBeDefined()
    expect(await found?.verify('Legacy-pass-1')).toBe(true)
    expect(await found?.verify('Wrong-pass-1')).toBe(false)
    expect(await store.get('nobody@example.org', call)).toBeUndefined()
  })

  it('stops with exit 1 when the hash table cannot be reached, naming no user', async () => {
    const input = usersFile('table-down.jsonl', 3, 701)
    const r = await importUsersWith(
      {
        PASSWORD_HASHES_FILE: '',
        // Port 1: nothing listens there; the table client does not retry.
        PASSWORD_HASHES_CONNECTION_STRING: azurite.connectionString.replace(
          `:${azurite.port}/`,
          ':1/',
        ),
      },
      input,
      '--extensions-app-id',
      APP_ID,
      '--issuer',
      DOMAIN,
    )
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('3 users: 3 created, 0 existed already, 3 failed; 0 hashes written')
    expect(r.stdout).toContain(
      'stopped early: the hash store could not be written: the hash table: creating the table failed (no answer)',
    )
    const report = readFileSync(`${input}.failures.jsonl`, 'utf8')
    outputs.push(report)
    expect(
      report
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).stage),
    ).toEqual(['hash-store', 'hash-store', 'hash-store'])
  })
})
