// The Azure Functions adapter, driven with the library's own test constructors (HttpRequest,
// InvocationContext) against a real loopback issuer: the same answers as the local host.
import { HttpRequest, InvocationContext } from '@azure/functions'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventHandler, healthHandler, startEndpoint } from '../../functions/endpoint-handlers.js'
import { capturingLogger, type LogLine } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { EVENT_ROUTE_NAMES } from '../../src/events/routes.js'
import {
  EXTENSION_APP_ID,
  startTestIssuer,
  TENANT_ID,
  type TestIssuer,
} from '../support/oidc-issuer.js'

const ROOT = new URL('../../', import.meta.url).pathname

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await startTestIssuer()
})
afterAll(() => issuer.close())

function invocation(lines: string[]) {
  return new InvocationContext({
    functionName: 'onTokenIssuanceStart',
    logHandler: (level, ...args) => lines.push(`${level} ${args.map(String).join(' ')}`),
  })
}

function request(token: string | undefined, body: unknown, method = 'POST') {
  return new HttpRequest({
    method,
    url: 'http://localhost:7071/api/onTokenIssuanceStart',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(method === 'POST' ? { body: { string: JSON.stringify(body) } } : {}),
  })
}

describe('functions/ adapter', () => {
  it('answers an authenticated OnTokenIssuanceStart with 200 and the claims', async () => {
    const endpoint = startEndpoint({
      ENTRA_TENANT_ID: issuer.tenantId,
      ENTRA_AUDIENCE: EXTENSION_APP_ID,
      ENTRA_ISSUER: issuer.issuer,
    })
    await endpoint.warmedUp
    const lines: string[] = []
    const res = await eventHandler(endpoint, 'onTokenIssuanceStart')(
      request(await issuer.mint(), fixture('token-issuance-start')),
      invocation(lines),
    )
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body as string)).toMatchObject({
      data: { actions: [{ claims: { apiVersion: '1.0.0' } }] },
    })
    expect(lines.some((line) => line.includes('"event":"auth_event"'))).toBe(true)
    const health = new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/health' })
    expect((await healthHandler(endpoint)(health)).status).toBe(200)
  })

  it('answers 401 with the Bearer challenge and 405 through the same pipeline', async () => {
    const endpoint = startEndpoint({
      ENTRA_TENANT_ID: issuer.tenantId,
      ENTRA_AUDIENCE: EXTENSION_APP_ID,
      ENTRA_ISSUER: issuer.issuer,
    })
    const handler = eventHandler(endpoint, 'onTokenIssuanceStart')
    const unauthenticated = await handler(
      request(undefined, fixture('token-issuance-start')),
      invocation([]),
    )
    expect(unauthenticated.status).toBe(401)
    expect(unauthenticated.headers).toMatchObject({ 'www-authenticate': 'Bearer' })
    expect((await handler(request(undefined, undefined, 'GET'), invocation([]))).status).toBe(405)
  })

  it('does not throw on a bad configuration: logs each problem and answers 500 ERR_CONFIG_INVALID', async () => {
    const logs: LogLine[] = []
    const secret = 'not-a-guid-secret'
    const endpoint = startEndpoint({ ENTRA_TENANT_ID: secret }, capturingLogger(logs))
    const res = await eventHandler(endpoint, 'onTokenIssuanceStart')(
      request(await issuer.mint(), fixture('token-issuance-start')),
      invocation([]),
    )
    expect(res.status).toBe(500)
    expect(JSON.parse(res.body as string)).toEqual({
      error: {
        code: 'ERR_CONFIG_INVALID',
        message: "the endpoint's configuration is invalid; see its logs",
      },
    })
    expect(
      logs.filter((l) => l.event === 'configuration_invalid').map((l) => l.fields.problem),
    ).toEqual(['ENTRA_TENANT_ID: must be a GUID', 'ENTRA_AUDIENCE: is required'])
    expect(JSON.stringify(logs)).not.toContain(secret)
    const health = await healthHandler(endpoint)(
      new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/health' }),
    )
    expect(health.status).toBe(503)
    expect(JSON.parse(health.body as string)).toEqual({ status: 'unavailable' })
  })
})

/**
 * What functions/auth-events.ts registers with the Functions host. @azure/functions hands each
 * registration to the worker's core API (the module `@azure/functions-core`, which only the host
 * provides); here a small implementation of that API, found through NODE_PATH, records them in a
 * child process that imports the entry exactly as the worker would.
 */
async function registrations(env: Record<string, string>): Promise<RegisteredFunction[]> {
  const parent = process.env.TEST_TMP_DIR ?? tmpdir() // removed at the end of the run
  mkdirSync(parent, { recursive: true })
  const folder = mkdtempSync(join(parent, 'functions-core-'))
  const core = join(folder, '@azure', 'functions-core')
  mkdirSync(core, { recursive: true })
  writeFileSync(
    join(core, 'package.json'),
    JSON.stringify({ name: '@azure/functions-core', main: 'index.js' }),
  )
  writeFileSync(
    join(core, 'index.js'),
    `const registered = []
module.exports = {
  setProgrammingModel() {},
  registerFunction(metadata) { registered.push(metadata); return { dispose() {} } },
  log() {},
}
process.on('exit', () => require('node:fs').writeSync(1, JSON.stringify(registered)))`,
  )
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', "await import('./functions/auth-events.ts')"],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', NODE_PATH: folder, ...env } },
  )
  let stdout = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  expect(code).toBe(0)
  return JSON.parse(stdout) as RegisteredFunction[]
}

interface RegisteredFunction {
  readonly name: string
  readonly bindings: Record<
    string,
    { type: string; direction: string; route?: string; methods?: string[]; authLevel?: string }
  >
}

const trigger = (fn: RegisteredFunction) =>
  Object.values(fn.bindings).find((binding) => binding.type === 'httpTrigger')

describe('functions/auth-events.ts registrations', () => {
  it.each([
    ['with no configuration (every call answers 500 ERR_CONFIG_INVALID)', {}],
    ['with a configuration', { ENTRA_TENANT_ID: TENANT_ID, ENTRA_AUDIENCE: EXTENSION_APP_ID }],
  ])(
    'registers every event route and health, anonymous, %s',
    async (_, env) => {
      const functions = await registrations(env)
      const routes = Object.fromEntries(
        functions.map((fn) => [
          trigger(fn)?.route,
          { name: fn.name, methods: trigger(fn)?.methods, authLevel: trigger(fn)?.authLevel },
        ]),
      )
      const every = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']
      expect(routes).toEqual({
        // Every method reaches the pipeline, which answers 405 with a JSON body for non-POST.
        onTokenIssuanceStart: {
          name: 'onTokenIssuanceStart',
          methods: every,
          authLevel: 'anonymous',
        },
        onAttributeCollectionStart: {
          name: 'onAttributeCollectionStart',
          methods: every,
          authLevel: 'anonymous',
        },
        onAttributeCollectionSubmit: {
          name: 'onAttributeCollectionSubmit',
          methods: every,
          authLevel: 'anonymous',
        },
        onOtpSend: { name: 'onOtpSend', methods: every, authLevel: 'anonymous' },
        onPasswordSubmit: { name: 'onPasswordSubmit', methods: every, authLevel: 'anonymous' },
        health: { name: 'health', methods: ['GET'], authLevel: 'anonymous' },
      })
      expect(
        Object.keys(routes)
          .filter((route) => route !== 'health')
          .sort(),
      ).toEqual([...EVENT_ROUTE_NAMES].sort())
      for (const fn of functions)
        expect(Object.values(fn.bindings).find((b) => b.direction === 'out')?.type).toBe('http')
    },
    30_000,
  )
})
