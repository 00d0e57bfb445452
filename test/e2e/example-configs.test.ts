// The configurations in config/examples/ (shown in docs/claims.md) as they are, through the real local
// host, against the stand-ins seeded with the demo directory (test/support/demo-data.ts): the
// exact claims each one gives the fixture's user, and the failure behaviour each one documents.
// Then `npm run stand-ins` (test/support/serve-stand-ins.ts) as a user runs it: the environment
// it prints starts an endpoint that answers the replayed fixture.
import { spawn, type ChildProcess } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { request } from 'node:https'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  DEMO_EMPLOYEE_RECORD,
  DEMO_HR_API_KEY,
  DEMO_UPN,
  DEMO_USER_ID,
  EMPLOYEE_API_PORT,
  seedDemoDirectory,
  startEmployeeApi,
  type EmployeeApi,
} from '../support/demo-data.js'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type TestEndpoint,
  type TestResponse,
} from '../support/endpoint.js'
import { fixture, fixturePath } from '../support/fixtures.js'
import { group, startGraph, type GraphStandIn } from '../support/graph-server.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const example = (name: string) => `${ROOT}config/examples/${name}.json`
const STRANGER_ID = 'c0ffee00-1234-4abc-8def-0123456789ab' // in no directory, no cache
/** What graph-groups.json maps the demo user's groups to, by object ID, in Graph's order. */
const APP_ROLES = ['Reader', 'Approver', 'Admin']
/** A user who created groups named like the demo's role groups (and like a role). */
const MALLORY_ID = 'badc0ffe-0000-4000-8000-00000000a11e'
const MALLORY_GROUPS = [
  group('7a1e0000-0000-4000-8000-000000000001', 'app-Admins'),
  group('7a1e0000-0000-4000-8000-000000000002', 'Admin'),
  group('7a1e0000-0000-4000-8000-000000000003', 'app-Readers'),
]

let issuer: TestIssuer
let tokens: TokenEndpointStandIn
let graph: GraphStandIn
let employees: EmployeeApi

beforeAll(async () => {
  issuer = await startTestIssuer()
  tokens = await startTokenEndpoint()
  graph = await startGraph({ tokens })
  seedDemoDirectory(graph)
  graph.addUser({ id: MALLORY_ID }, { transitiveMemberOf: MALLORY_GROUPS })
  employees = await startEmployeeApi()
})
afterAll(async () => {
  await employees.close()
  await graph.close()
  await tokens.close()
  await issuer.close()
})
beforeEach(() => {
  graph.reset()
  employees.requests.length = 0
})

/** The environment serve-stand-ins.ts prints, for the in-process stand-ins. */
const standInEnv = (extensionConfig: string): Record<string, string> => ({
  GRAPH_BASE_URL: graph.origin,
  AZURE_TENANT_ID: tokens.tenantId,
  AZURE_CLIENT_ID: tokens.clientId,
  AZURE_CLIENT_SECRET: tokens.clientSecret,
  AZURE_AUTHORITY_HOST: tokens.authorityHost,
  HR_API_KEY: DEMO_HR_API_KEY,
  EXTENSION_CONFIG: extensionConfig,
})

/** http-employee.json names port 7081: a copy pointing at `origin` instead. */
function httpEmployeeConfig(origin: string): string {
  const text = readFileSync(example('http-employee'), 'utf8')
  const fixed = `http://127.0.0.1:${EMPLOYEE_API_PORT}/`
  expect(text).toContain(fixed)
  return writeExtensionConfig(text.replaceAll(fixed, `${origin}/`))
}

function withEndpoint(extensionConfig: () => string): { readonly endpoint: TestEndpoint } {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    holder.endpoint = await startTestEndpoint(issuer, standInEnv(extensionConfig()))
  })
  afterAll(async () => {
    await holder.endpoint.close()
  })
  return holder
}

/** Posts the fixture (edited); the token is minted at the endpoint's clock, moved or not. */
async function post(endpoint: TestEndpoint, edit?: (event: ReturnType<typeof fixture>) => void) {
  const event = fixture('token-issuance-start')
  edit?.(event)
  const now = Math.floor((Date.now() + endpoint.clockOffsetMs) / 1000)
  const token = await issuer.mint({ iat: now, nbf: now, exp: now + 3600 })
  return endpoint.post('onTokenIssuanceStart', event, { token })
}
const asStranger = (event: ReturnType<typeof fixture>) => {
  event.data.authenticationContext.user.id = STRANGER_ID
  event.data.authenticationContext.user.userPrincipalName = 'nobody@example.org'
}

function claimsOf(res: TestResponse): Record<string, unknown> {
  expect(res.status, res.text).toBe(200)
  const body = res.json as { data: { actions: { claims: Record<string, unknown> }[] } }
  expect(body.data.actions).toHaveLength(1)
  return body.data.actions[0]?.claims ?? {}
}
const errorOf = (res: TestResponse) =>
  (res.json as { error: { code: string; message: string } }).error
const logsOf = (endpoint: TestEndpoint, event: string) =>
  endpoint.logs.filter((line) => line.event === event).map((line) => line.fields)

/** A Graph outage; Retry-After 0 keeps the retries well inside the examples' timeouts. */
const graphDown = { kind: 'status', status: 503, retryAfterSeconds: 0 } as const

describe('config/examples/graph-groups.json', () => {
  const it$ = withEndpoint(() => example('graph-groups'))
  const TTL_MS = 300_000
  const STALE_MS = 3_600_000

  it('finding 3: maps the groups to app roles by object ID, not by display name', async () => {
    const claims = claimsOf(await post(it$.endpoint))
    // The groups the map names; "Sales EMEA", "All staff" and the directory role give nothing.
    expect(claims).toEqual({ appRoles: APP_ROLES })
    const calls = graph.requests.filter((r) => r.path.startsWith('/v1.0/users/'))
    expect(calls.map((r) => r.path)).toEqual([`/v1.0/users/${DEMO_USER_ID}/transitiveMemberOf`])
    expect(calls[0]?.query.get('$select')).toBe('id')
    expect(calls[0]?.query.get('$top')).toBe('200')
  })

  it('finding 3: a group named like a role but with another ID gets no role', async () => {
    const claims = claimsOf(
      await post(it$.endpoint, (event) => {
        event.data.authenticationContext.user.id = MALLORY_ID
      }),
    )
    expect(claims).toEqual({ appRoles: [] })
    expect(graph.hits(`/v1.0/users/${MALLORY_ID}/transitiveMemberOf`)).toBe(1)
  })

  it('answers again from its cache within ttlSeconds, without asking Graph', async () => {
    it$.endpoint.clockOffsetMs = TTL_MS - 1000
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims.appRoles).toEqual(APP_ROLES)
    expect(graph.hits()).toBe(0)
  })

  it('is required: a Graph outage fails the call with 502 ERR_UPSTREAM_FAILED', async () => {
    it$.endpoint.clockOffsetMs = 0
    graph.fault(graphDown)
    const res = await post(it$.endpoint, asStranger) // a user with no cached answer
    expect(res.status, res.text).toBe(502)
    expect(errorOf(res)).toEqual({
      code: 'ERR_UPSTREAM_FAILED',
      message: 'required source "groups": Graph answered HTTP 503 (ServiceNotAvailable)',
    })
    expect(graph.hits(`/v1.0/users/${STRANGER_ID}/transitiveMemberOf`)).toBeGreaterThan(0)
  })

  it('bridges a Graph outage with the last answer for staleOnErrorSeconds past the TTL', async () => {
    it$.endpoint.clockOffsetMs = TTL_MS + STALE_MS - 60_000
    graph.fault(graphDown)
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims).toEqual({ appRoles: APP_ROLES })
    expect(graph.hits()).toBeGreaterThan(0) // asked, failed, then fell back
    expect(logsOf(it$.endpoint, 'source_stale').at(-1)).toMatchObject({ source: 'groups' })
  })

  it('fails the call again once the last answer is older than that', async () => {
    it$.endpoint.clockOffsetMs = TTL_MS + STALE_MS + 1000
    graph.fault(graphDown)
    const res = await post(it$.endpoint)
    expect(res.status, res.text).toBe(502)
    expect(errorOf(res).code).toBe('ERR_UPSTREAM_FAILED')
  })
})

describe('config/examples/http-employee.json', () => {
  const it$ = withEndpoint(() => httpEmployeeConfig(employees.origin))

  it('gives the employee id as a string, the cost center, and unique upper-case entitlements', async () => {
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims).toEqual({
      employeeId: '4711',
      costCenter: 'CC-100',
      entitlements: ['CRM', 'ERP'],
    })
    expect(employees.requests).toHaveLength(1)
    const [call] = employees.requests
    expect(call).toMatchObject({
      method: 'GET',
      path: `/employees/${DEMO_USER_ID}`,
      apiKey: DEMO_HR_API_KEY,
      status: 200,
    })
    expect(call?.query.get('upn')).toBe(DEMO_UPN)
  })

  it('is optional: a user the API does not know (404) gets the default cost center only', async () => {
    const claims = claimsOf(await post(it$.endpoint, asStranger))
    expect(claims).toEqual({ costCenter: 'unassigned' })
    expect(employees.requests.map((r) => r.status)).toEqual([404])
    expect(logsOf(it$.endpoint, 'source_failed').at(-1)).toMatchObject({
      source: 'hr',
      reason: 'answered HTTP 404',
    })
  })

  describe('with the employee API down', () => {
    // Its own employee API (and endpoint, so no cached answer), stopped before the call.
    const down = {} as { api: EmployeeApi }
    beforeAll(async () => {
      down.api = await startEmployeeApi()
    })
    const it$$ = withEndpoint(() => httpEmployeeConfig(down.api.origin))

    it('still answers 200: costCenter "unassigned", no employeeId, no entitlements', async () => {
      await down.api.close()
      const claims = claimsOf(await post(it$$.endpoint))
      expect(claims).toEqual({ costCenter: 'unassigned' })
      expect(logsOf(it$$.endpoint, 'source_failed').at(-1)).toMatchObject({
        source: 'hr',
        reason: 'the connection failed',
      })
    })
  })
})

describe('config/examples/static-and-graph.json', () => {
  const it$ = withEndpoint(() => example('static-and-graph'))
  const correlationId = fixture('token-issuance-start').data.authenticationContext
    .correlationId as string

  it('mixes a static value, the correlation id, the profile and the manager', async () => {
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims).toEqual({
      apiVersion: '1.0.0',
      correlationId,
      department: 'Sales',
      employeeId: 'E-4711',
      costCenter: 'CC-100',
      managerEmployeeId: 'E-1',
    })
    const user = graph.requests.find((r) => r.path === `/v1.0/users/${DEMO_USER_ID}`)
    expect(user?.query.get('$select')).toBe(
      'department,employeeId,extension_0a1b2c3d4e5f40718293a4b5c6d7e8f9_costCenter',
    )
    const manager = graph.requests.find((r) => r.path.endsWith('/manager'))
    expect(manager?.query.get('$select')).toBe('employeeId')
  })

  it('the manager is optional: when Graph fails on it, the rest is issued', async () => {
    graph.fault(graphDown, { path: `/v1.0/users/${DEMO_USER_ID}/manager` })
    const claims = claimsOf(await post(it$.endpoint))
    expect(claims).toEqual({
      apiVersion: '1.0.0',
      correlationId,
      department: 'Sales',
      employeeId: 'E-4711',
      costCenter: 'CC-100',
    })
    expect(logsOf(it$.endpoint, 'source_failed').at(-1)).toMatchObject({ source: 'manager' })
  })

  it('the profile is required: when Graph fails on it, 502 ERR_UPSTREAM_FAILED', async () => {
    graph.fault(graphDown, { path: `/v1.0/users/${DEMO_USER_ID}` })
    const res = await post(it$.endpoint)
    expect(res.status, res.text).toBe(502)
    expect(errorOf(res)).toEqual({
      code: 'ERR_UPSTREAM_FAILED',
      message: 'required source "profile": Graph answered HTTP 503 (ServiceNotAvailable)',
    })
  })
})

describe('npm run stand-ins (test/support/serve-stand-ins.ts)', () => {
  interface Run {
    readonly child: ChildProcess
    stdout: string
    stderr: string
  }
  const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
  const runs: Run[] = []

  function run(script: string, args: string[], env: Record<string, string>): Run {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...BASE_ENV, ...env },
    })
    const result: Run = { child, stdout: '', stderr: '' }
    child.stdout?.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()))
    runs.push(result)
    return result
  }
  async function exitCode(r: Run): Promise<number | null> {
    if (r.child.exitCode !== null || r.child.signalCode !== null) return r.child.exitCode
    const [code] = (await once(r.child, 'exit')) as [number | null]
    return code
  }
  async function waitFor(r: Run, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> {
    for (;;) {
      const match = pattern.exec(r[stream])
      if (match !== null) return match[1] ?? match[0]
      if (r.child.exitCode !== null || r.child.signalCode !== null)
        throw new Error(`exited early:\n${r.stdout}\n${r.stderr}`)
      await new Promise<void>((resolve) => {
        const source = r.child[stream] ?? r.child
        const next = () => {
          source.off('data', next)
          r.child.off('exit', next)
          resolve()
        }
        source.on('data', next)
        r.child.on('exit', next)
      })
    }
  }

  /** NAME=value words of the printed command line, unquoted as a POSIX shell does. */
  function parseAssignments(line: string): Record<string, string> {
    const env: Record<string, string> = {}
    for (const [, name = '', raw = ''] of line.matchAll(/([A-Z_]+)=('(?:[^']|'\\'')*'|\S+)/g))
      env[name] = raw.startsWith("'") ? raw.slice(1, -1).replaceAll(`'\\''`, "'") : raw
    return env
  }

  /** HTTPS trusting only `ca` (not the tests' CA, which this process trusts already). */
  function httpsCall(
    url: string,
    ca: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; json: unknown }> {
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { method: init.method ?? 'GET', headers: init.headers, ca },
        (res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => (text += chunk.toString()))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }))
        },
      )
      req.on('error', reject)
      req.end(init.body)
    })
  }

  const state = {} as { standIns: Run; env: Record<string, string>; ca: string; api: string }
  beforeAll(async () => {
    // No NODE_EXTRA_CA_CERTS nor TEST_TLS_FILE: as from a user's shell.
    state.standIns = run('test/support/serve-stand-ins.ts', [], { EMPLOYEE_API_PORT: '0' })
    await waitFor(
      state.standIns,
      'stdout',
      /npm run replay -- test\/fixtures\/events\/otp-send\.json/,
    )
    const line = await waitFor(state.standIns, 'stdout', /^(NODE_EXTRA_CA_CERTS=.* npm start)$/m)
    state.env = parseAssignments(line)
    state.ca = readFileSync(state.env.NODE_EXTRA_CA_CERTS ?? '', 'utf8')
    state.api = await waitFor(state.standIns, 'stdout', /employee API +(http:\/\/\S+)/)
  }, 60_000)
  afterAll(async () => {
    for (const r of runs)
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill()
    await Promise.all(runs.map((r) => exitCode(r)))
  })

  it('prints the full environment for npm start, and the replay command', () => {
    expect(Object.keys(state.env)).toEqual([
      'NODE_EXTRA_CA_CERTS',
      'GRAPH_BASE_URL',
      'AZURE_TENANT_ID',
      'AZURE_CLIENT_ID',
      'AZURE_CLIENT_SECRET',
      'AZURE_AUTHORITY_HOST',
      'HR_API_KEY',
      'MAIL_PROVIDER',
      'MAIL_FROM',
      'SMTP_URL',
      'EXTENSION_CONFIG',
    ])
    expect(state.env.SMTP_URL).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/)
    expect(state.env.EXTENSION_CONFIG).toBe('config/examples/graph-groups.json')
    expect(state.env.GRAPH_BASE_URL).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(state.env.AZURE_AUTHORITY_HOST).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(state.standIns.stdout).toContain(
      'npm run replay -- test/fixtures/events/token-issuance-start.json',
    )
    expect(state.standIns.stdout).toContain('npm run replay -- test/fixtures/events/otp-send.json')
  })

  it('writes a fresh CA certificate to the printed file', () => {
    const ca = new X509Certificate(state.ca)
    expect(ca.ca).toBe(true)
    expect(ca.subject).toContain('test CA')
    // Made on the spot: not the tests' own CA.
    const tests = readFileSync(process.env.NODE_EXTRA_CA_CERTS ?? '', 'utf8')
    expect(tests).not.toContain(state.ca.trim())
  })

  it('serves Graph and the token endpoint over HTTPS that the printed CA file makes trusted', async () => {
    const { GRAPH_BASE_URL: graphUrl = '', AZURE_AUTHORITY_HOST: authority = '' } = state.env
    const user = `${graphUrl}/v1.0/users/${DEMO_USER_ID}?$select=department`
    // Not trusted without it…
    await expect(fetch(user)).rejects.toThrow()
    // …and with it: Graph wants a token, which the printed client gets with its secret.
    expect((await httpsCall(user, state.ca)).status).toBe(401)
    const token = await httpsCall(
      `${authority}/${state.env.AZURE_TENANT_ID}/oauth2/v2.0/token`,
      state.ca,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: state.env.AZURE_CLIENT_ID ?? '',
          client_secret: state.env.AZURE_CLIENT_SECRET ?? '',
          scope: `${graphUrl}/.default`,
        }).toString(),
      },
    )
    expect(token.status).toBe(200)
    const bearer = (token.json as { access_token: string }).access_token
    const answer = await httpsCall(user, state.ca, {
      headers: { authorization: `Bearer ${bearer}` },
    })
    expect(answer).toMatchObject({ status: 200, json: { id: DEMO_USER_ID, department: 'Sales' } })
  })

  it('serves the employee API on the port asked for, with the printed key', async () => {
    const url = `${state.api}/employees/${DEMO_USER_ID}?upn=${encodeURIComponent(DEMO_UPN)}`
    expect((await fetch(url)).status).toBe(401)
    const res = await fetch(url, { headers: { 'x-api-key': state.env.HR_API_KEY ?? '' } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(DEMO_EMPLOYEE_RECORD)
  })

  it('says that http-employee.json must change on another port, and writes a copy that has', () => {
    expect(state.api).not.toBe(`http://127.0.0.1:${EMPLOYEE_API_PORT}`)
    expect(state.standIns.stdout).toContain(
      `NOTE: the employee API is not on port ${EMPLOYEE_API_PORT}`,
    )
    const copy = /a copy pointing at \S+ is (\S+)/.exec(state.standIns.stdout)?.[1] ?? ''
    expect(dirname(copy)).toBe(dirname(state.env.NODE_EXTRA_CA_CERTS ?? ''))
    const config = JSON.parse(readFileSync(copy, 'utf8'))
    expect(config.tokenIssuanceStart.sources.hr.url).toBe(
      `${state.api}/employees/{user.id}?upn={user.userPrincipalName}`,
    )
  })

  it('starts an endpoint (dev mode) with the printed environment that answers the replay', async () => {
    const server = run('src/http/serve-local.ts', [], {
      ...state.env,
      PORT: '0',
      LOG_LEVEL: 'warn',
    })
    const url = await waitFor(server, 'stderr', /listening on (http:\/\/\S+)/)
    const replay = run(
      'tools/cli/replay.ts',
      [fixturePath('token-issuance-start'), '--url', url],
      {},
    )
    expect(await exitCode(replay), replay.stdout + replay.stderr).toBe(0)
    expect(replay.stdout).toContain('HTTP 200')
    for (const role of APP_ROLES) expect(replay.stdout).toContain(`"${role}"`)
    // OnOtpSend: the replayed fixture becomes exactly one e-mail at the stand-in SMTP server.
    const otp = run('tools/cli/replay.ts', [fixturePath('otp-send'), '--url', url], {})
    expect(await exitCode(otp), otp.stdout + otp.stderr).toBe(0)
    expect(otp.stdout).toContain('HTTP 200')
    await waitFor(
      state.standIns,
      'stdout',
      /SMTP stand-in: received "Your Contoso Shop code: 48213907" for avery@example\.org/,
    )
    expect(state.standIns.stdout.match(/SMTP stand-in: received/g)).toHaveLength(1)
    server.child.kill('SIGTERM')
    await exitCode(server)
  }, 60_000)

  it('moves the employee API off 7081 when that port is taken, unless told to use it', async () => {
    const holder = createServer()
    await new Promise<void>((resolve) => {
      holder.once('error', () => resolve()) // taken already: as good
      holder.listen(EMPLOYEE_API_PORT, '127.0.0.1', resolve)
    })
    try {
      const moved = run('test/support/serve-stand-ins.ts', [], {})
      const told = run('test/support/serve-stand-ins.ts', [], {
        EMPLOYEE_API_PORT: String(EMPLOYEE_API_PORT),
      })
      await waitFor(moved, 'stdout', /npm run replay/)
      expect(moved.stdout).toContain(`NOTE: port ${EMPLOYEE_API_PORT} is in use`)
      expect(moved.stdout).toMatch(/employee API +http:\/\/127\.0\.0\.1:\d+/)
      expect(moved.stdout).not.toContain(`employee API    http://127.0.0.1:${EMPLOYEE_API_PORT} `)
      expect(await exitCode(told)).toBe(1)
      expect(told.stderr).toContain(`stand-ins: port ${EMPLOYEE_API_PORT} is in use`)
      moved.child.kill('SIGINT')
      expect(await exitCode(moved)).toBe(0)
    } finally {
      if (holder.listening) await new Promise<void>((resolve) => holder.close(() => resolve()))
    }
  }, 60_000)

  it('stops on Ctrl-C (SIGINT) and removes its temporary files', async () => {
    state.standIns.child.kill('SIGINT')
    expect(await exitCode(state.standIns)).toBe(0)
    expect(existsSync(dirname(state.env.NODE_EXTRA_CA_CERTS ?? ''))).toBe(false)
  })
})
