// OnPasswordSubmit's legacyApi and ropc modes through the real local host, against loopback
// stand-ins speaking HTTP: the customer's verification API (test/support/customer-api.ts: right,
// wrong, slow, silent, reset) and a legacy OpenID provider's token endpoint speaking the password
// grant (test/support/ropc-endpoint.ts). A legacy system that cannot say is 503/504, never Retry.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import { closedPortUrl, startCustomerApi, type CustomerApi } from '../support/customer-api.js'
import { startTestEndpoint, writeExtensionConfig, type TestEndpoint } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startManagedIdentity, type ManagedIdentityStandIn } from '../support/managed-identity.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { writePasswordKey, type PasswordKey } from '../support/password.js'
import { startRopcEndpoint, type RopcEndpoint } from '../support/ropc-endpoint.js'

const API_KEY = `key-${randomUUID()}`
const LOCKED = { title: { en: 'Locked' }, message: { en: 'Your old account is locked.' } }
const ANSWERS = [
  { status: 200, field: 'result', equals: 'ok', outcome: 'valid' },
  { status: 200, field: 'result', equals: 'expired', outcome: 'weak' },
  { status: [401, 404], outcome: 'invalid' },
  { status: 423, outcome: 'locked' },
]

let issuer: TestIssuer
let key: PasswordKey
let api: CustomerApi
let ropc: RopcEndpoint
const started: TestEndpoint[] = []

beforeAll(async () => {
  issuer = await startTestIssuer()
  key = writePasswordKey()
  api = await startCustomerApi()
  ropc = await startRopcEndpoint({
    'avery@example.org': 'Strong-Pass-1',
    'sam@example.org': 'weak',
    'auth0@example.org': 'Strong-Pass-1',
    'keycloak@example.org': 'Strong-Pass-1',
  })
}, 30_000)
afterAll(async () => {
  await Promise.all(started.map((endpoint) => endpoint.close()))
  await Promise.all([api?.close(), ropc?.close(), issuer?.close()])
})
beforeEach(() => {
  api.reset()
  ropc.requests.length = 0
  ropc.mode = { kind: 'up' }
  ropc.provider = 'rfc6749'
})

async function endpointWith(check: object, env: Record<string, string> = {}) {
  const endpoint = await startTestEndpoint(issuer, {
    PASSWORD_DECRYPTION_KEY_PATH: key.path,
    EXTENSION_CONFIG: writeExtensionConfig({ passwordSubmit: { check, locked: LOCKED } }),
    REQUEST_BUDGET_MS: '600',
    ...env,
  })
  started.push(endpoint)
  return endpoint
}

async function submit(endpoint: TestEndpoint, username: string, password: string) {
  const event = fixture('password-submit')
  event.data.encryptedPasswordContext = await key.encrypt({ username, password })
  return endpoint.post('onPasswordSubmit', event)
}

const actionOf = (json: unknown) =>
  (json as { data: { actions: [{ '@odata.type': string }] } }).data.actions[0][
    '@odata.type'
  ].replace('microsoft.graph.passwordSubmit.', '')
const codeOf = (json: unknown) => (json as { error: { code: string } }).error.code

describe('legacyApi mode', () => {
  let endpoint: TestEndpoint
  beforeAll(async () => {
    endpoint = await endpointWith(
      {
        mode: 'legacyApi',
        url: api.url,
        timeoutMs: 300,
        auth: { type: 'header', name: 'x-api-key', secretSetting: 'LEGACY_API_KEY' },
        answers: ANSWERS,
      },
      { LEGACY_API_KEY: API_KEY },
    )
  })

  it('POSTs the username and password with the API key, and maps the answers', async () => {
    const cases = [
      [{ kind: 'json', body: { result: 'ok' } }, 'Strong-Pass-1', 'MigratePassword'],
      [{ kind: 'json', body: { result: 'ok' } }, 'weak', 'UpdatePassword'],
      [{ kind: 'json', body: { result: 'expired' } }, 'Strong-Pass-1', 'UpdatePassword'],
      [{ kind: 'json', status: 401, body: { result: 'no' } }, 'Strong-Pass-1', 'Retry'],
      [{ kind: 'json', status: 404, body: {} }, 'Strong-Pass-1', 'Retry'],
    ] as const
    for (const [answer, password, action] of cases) {
      api.answer(answer)
      const res = await submit(endpoint, 'Avery@Example.org', password)
      expect(res.status).toBe(200)
      expect(actionOf(res.json)).toBe(action)
    }
    const request = api.requests[0]
    expect(request?.method).toBe('POST')
    expect(request?.headers['x-api-key']).toBe(API_KEY)
    expect(request?.json).toEqual({ username: 'Avery@Example.org', password: 'Strong-Pass-1' })
  })

  it('blocks with the locked texts when the API says the account is locked', async () => {
    api.answer({ kind: 'json', status: 423, body: {} })
    const res = await submit(endpoint, 'locked@example.org', 'Strong-Pass-1')
    expect((res.json as { data: { actions: unknown[] } }).data.actions).toEqual([
      {
        '@odata.type': 'microsoft.graph.passwordSubmit.Block',
        title: 'Locked',
        message: 'Your old account is locked.',
      },
    ])
  })

  it('answers 503 for a wrong or unmapped answer and 504 for a slow or silent API', async () => {
    const cases = [
      [{ kind: 'json', body: { result: 'maybe' } }, 503, 'ERR_PASSWORD_CHECK_UNAVAILABLE'],
      [
        { kind: 'json', status: 500, body: { result: 'ok' } },
        503,
        'ERR_PASSWORD_CHECK_UNAVAILABLE',
      ],
      [{ kind: 'text', body: '<html>ok</html>' }, 503, 'ERR_PASSWORD_CHECK_UNAVAILABLE'],
      [{ kind: 'redirect', status: 302 }, 503, 'ERR_PASSWORD_CHECK_UNAVAILABLE'],
      [{ kind: 'reset' }, 503, 'ERR_PASSWORD_CHECK_UNAVAILABLE'],
      [
        { kind: 'slow', delayMs: 450, then: { kind: 'json', body: { result: 'ok' } } },
        504,
        'ERR_PASSWORD_CHECK_TIMEOUT',
      ],
      [{ kind: 'hang' }, 504, 'ERR_PASSWORD_CHECK_TIMEOUT'],
    ] as const
    for (const [answer, status, code] of cases) {
      api.answer(answer)
      const before = performance.now()
      const res = await submit(endpoint, `fail-${randomUUID()}@example.org`, 'Strong-Pass-1')
      expect([res.status, codeOf(res.json)]).toEqual([status, code])
      expect(performance.now() - before).toBeLessThan(600)
    }
    const failed = endpoint.logs.filter((line) => line.event === 'password_check_failed')
    expect(failed.map((line) => line.fields.reason)).toContain(
      'the legacy API answered HTTP 200, which no answers rule maps',
    )
    expect(JSON.stringify(endpoint.logs)).not.toMatch(/fail-|Strong-Pass-1/)
  })

  it('answers 503 when the API is down', async () => {
    const down = await endpointWith({
      mode: 'legacyApi',
      url: await closedPortUrl(),
      answers: ANSWERS,
    })
    const res = await submit(down, 'down@example.org', 'Strong-Pass-1')
    expect([res.status, codeOf(res.json)]).toEqual([503, 'ERR_PASSWORD_CHECK_UNAVAILABLE'])
  })

  it('calls with a managed-identity token', async () => {
    const mi: ManagedIdentityStandIn = await startManagedIdentity()
    const restore = mi.useEnvironment()
    try {
      const withToken = await endpointWith({
        mode: 'legacyApi',
        url: api.url,
        auth: { type: 'managedIdentity', scope: 'api://legacy/.default' },
        answers: ANSWERS,
      })
      api.answer({ kind: 'json', body: { result: 'ok' } })
      const res = await submit(withToken, 'mi@example.org', 'Strong-Pass-1')
      expect(actionOf(res.json)).toBe('MigratePassword')
      expect(api.requests.at(-1)?.headers.authorization).toBe(`Bearer ${mi.issued.at(-1)}`)
    } finally {
      restore()
      await mi.close()
    }
  })
})

describe('ropc mode', () => {
  let endpoint: TestEndpoint
  beforeAll(async () => {
    endpoint = await endpointWith(
      {
        mode: 'ropc',
        tokenUrl: ropc.tokenUrl,
        clientId: ropc.clientId,
        clientSecretSetting: 'LEGACY_CLIENT_SECRET',
        scope: 'openid profile',
        timeoutMs: 300,
      },
      { LEGACY_CLIENT_SECRET: ropc.clientSecret },
    )
  })

  it('a token is valid, invalid_grant is invalid', async () => {
    const right = await submit(endpoint, 'avery@example.org', 'Strong-Pass-1')
    expect(actionOf(right.json)).toBe('MigratePassword')
    const weak = await submit(endpoint, 'sam@example.org', 'weak')
    expect(actionOf(weak.json)).toBe('UpdatePassword')
    const wrong = await submit(endpoint, 'avery@example.org', 'Wrong-Pass-1')
    expect(actionOf(wrong.json)).toBe('Retry')
    expect(Object.fromEntries(ropc.requests[0] ?? [])).toEqual({
      grant_type: 'password',
      username: 'avery@example.org',
      password: 'Strong-Pass-1',
      client_id: ropc.clientId,
      client_secret: ropc.clientSecret,
      scope: 'openid profile',
    })
  })

  it.each([
    ['auth0', 403],
    ['keycloak', 401],
  ] as const)(
    "a wrong password in %s's shape (%i invalid_grant) is invalid: Retry",
    async (provider, status) => {
      ropc.provider = provider
      const before = endpoint.logs.length
      // A user of its own: the attempt limit (5) counts every check.
      const user = `${provider}@example.org`
      const wrong = await submit(endpoint, user, 'Wrong-Pass-1')
      expect(wrong.status).toBe(200)
      expect(actionOf(wrong.json)).toBe('Retry')
      const checked = endpoint.logs.slice(before).find((line) => line.event === 'password_checked')
      expect(checked?.fields).toMatchObject({ outcome: 'retry', status })
      const right = await submit(endpoint, user, 'Strong-Pass-1')
      expect(actionOf(right.json)).toBe('MigratePassword')
    },
  )

  it('anything else is the provider failing: 503, or 504 when slow or silent', async () => {
    const cases = [
      [{ kind: 'answer', status: 401, body: { error: 'invalid_client' } }, 503],
      [{ kind: 'answer', status: 400, body: { error: 'invalid_request' } }, 503],
      [{ kind: 'answer', status: 403, body: { error: 'too_many_attempts' } }, 503],
      [{ kind: 'answer', status: 403, body: { error: 'access_denied' } }, 503],
      [{ kind: 'answer', status: 500, body: { error: 'invalid_grant' } }, 503],
      [{ kind: 'answer', status: 200, body: { token_type: 'Bearer' } }, 503],
      [{ kind: 'answer', status: 503, body: { error: 'temporarily_unavailable' } }, 503],
      [{ kind: 'slow', delayMs: 450 }, 504],
      [{ kind: 'hang' }, 504],
    ] as const
    for (const [mode, status] of cases) {
      ropc.mode = mode
      // Another user each time: the attempt limit (5) counts a failed check as an attempt.
      const res = await submit(endpoint, `avery-${randomUUID()}@example.org`, 'Strong-Pass-1')
      expect(res.status).toBe(status)
      expect(codeOf(res.json)).toBe(
        status === 503 ? 'ERR_PASSWORD_CHECK_UNAVAILABLE' : 'ERR_PASSWORD_CHECK_TIMEOUT',
      )
    }
    expect(JSON.stringify(endpoint.logs)).not.toMatch(/avery@|Strong-Pass-1|client_secret/)
  })
})

describe('mode configuration', () => {
  it('fails closed at start naming the setting', async () => {
    const cases: [object, Record<string, string>, string][] = [
      [
        {
          mode: 'ropc',
          tokenUrl: ropc.tokenUrl,
          clientId: 'x',
          clientSecretSetting: 'ROPC_SECRET',
        },
        {},
        'ROPC_SECRET: is required (EXTENSION_CONFIG passwordSubmit.check.clientSecretSetting names it)',
      ],
      [
        { mode: 'legacyApi', url: api.url, answers: ANSWERS },
        { PASSWORD_HASHES_FILE: 'hashes.jsonl' },
        'PASSWORD_HASHES_FILE: is read in hashes mode only, and EXTENSION_CONFIG passwordSubmit.check.mode is "legacyApi"',
      ],
    ]
    for (const [check, env, problem] of cases) {
      const err: unknown = await endpointWith(check, env).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ConfigError)
      expect((err as ConfigError).problems).toEqual([problem])
    }
    const bad: unknown = await endpointWith({
      mode: 'legacyApi',
      url: 'http://legacy.example.org/verify',
      answers: [{ field: 'result', outcome: 'valid' }],
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    const problems = (bad as ConfigError).problems.join('\n')
    expect(problems).toContain('passwordSubmit.check.url')
    expect(problems).toContain('set "field" and "equals" together')
  })
})
