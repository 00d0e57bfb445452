// OnAttributeCollectionSubmit with remote validation, through the real local host with tokens from
// the loopback issuer: what the customer's API receives, how each of its answers maps to an action,
// the onFailure policy for every way the call can fail or run late, header and managed identity
// auth, and the start-up refusals. Every user-facing outcome is an HTTP 200.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import {
  closedPortUrl,
  startCustomerApi,
  VALIDATE_PATH,
  type CustomerAnswer,
  type CustomerApi,
} from '../support/customer-api.js'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type LogLine,
  type TestEndpoint,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { API_VERSION, startManagedIdentity } from '../support/managed-identity.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

const ROUTE = 'onAttributeCollectionSubmit'
const EXT = 'extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b'
const SUBMIT = 'microsoft.graph.attributeCollectionSubmit'
const RESPONSE_DATA = 'microsoft.graph.onAttributeCollectionSubmitResponseData'
const CORRELATION_ID = '44444444-5555-4666-8777-888888888804' // the fixture's
const EMAIL = 'avery@example.org' // the fixture's verified e-mail identity
/** The fixture's attributes, by name as received, in their types. */
const RECEIVED = {
  givenName: 'Avery',
  city: 'Malmö',
  [`${EXT}_interests`]: 'Hiking,Chess',
  [`${EXT}_memberSince`]: 2019,
  [`${EXT}_newsletter`]: false,
}

const CONTINUE_POLICY = { action: 'continue' }
const BLOCK_POLICY = {
  action: 'showBlockPage',
  title: { en: 'Try again later', sv: 'Försök igen senare' },
  message: {
    en: 'We could not check your details right now.',
    sv: 'Vi kunde inte kontrollera dina uppgifter just nu.',
  },
}

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

// --- the answers Entra gets -------------------------------------------------------------------

const answer = (action: Record<string, unknown>) => ({
  data: { '@odata.type': RESPONSE_DATA, actions: [action] },
})
const continued = () => answer({ '@odata.type': `${SUBMIT}.continueWithDefaultBehavior` })
const modified = (attributes: Record<string, unknown>) =>
  answer({ '@odata.type': `${SUBMIT}.modifyAttributeValues`, attributes })
const validationError = (message: string, attributeErrors: Record<string, string>) =>
  answer({ '@odata.type': `${SUBMIT}.showValidationError`, message, attributeErrors })
const blockPage = (message: string, title?: string) =>
  answer({
    '@odata.type': `${SUBMIT}.showBlockPage`,
    message,
    ...(title === undefined ? {} : { title }),
  })
/** What BLOCK_POLICY shows for the fixture's locale, sv-se. */
const policyBlockPage = () => blockPage(BLOCK_POLICY.message.sv, BLOCK_POLICY.title.sv)

// --- endpoints and calls ------------------------------------------------------------------------

type Event = ReturnType<typeof fixture>

/** Boots the local host with this remoteValidation (and submit rules) for one describe block. */
function withRemote(
  remote: Record<string, unknown> | (() => Record<string, unknown>),
  options: { attributes?: Record<string, unknown>; env?: Record<string, string> } = {},
): { readonly endpoint: TestEndpoint } {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    const remoteValidation = { url: api.url, ...(typeof remote === 'function' ? remote() : remote) }
    const config = {
      attributeCollectionSubmit: { attributes: options.attributes ?? {}, remoteValidation },
    }
    holder.endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: writeExtensionConfig(config),
      ...options.env,
    })
  })
  afterAll(async () => {
    await holder.endpoint.close()
  })
  return holder
}

interface Submitted {
  readonly status: number
  readonly json: unknown
  /** The log lines this call wrote. */
  readonly logs: LogLine[]
  readonly ms: number
}

async function submit(endpoint: TestEndpoint, edit?: (event: Event) => void): Promise<Submitted> {
  const event = fixture('attribute-collection-submit')
  edit?.(event)
  const from = endpoint.logs.length
  const started = performance.now()
  const res = await endpoint.post(ROUTE, event)
  const ms = performance.now() - started
  return { status: res.status, json: res.json, logs: endpoint.logs.slice(from), ms }
}

const setAttribute = (name: string, value: unknown) => (event: Event) => {
  event.data.userSignUpInfo.attributes[name].value = value
}

/** The reason in this call's remote_validation_failed line (exactly one is expected). */
function failureReason(logs: readonly LogLine[]): unknown {
  const failed = logs.filter((line) => line.event === 'remote_validation_failed')
  expect(failed).toHaveLength(1)
  expect(failed[0]?.level).toBe('warn')
  return failed[0]?.fields.reason
}

const TIMED_OUT = /^no answer within \d+ ms$/
/** The limit in a TIMED_OUT reason, in ms. */
const timeoutIn = (reason: unknown) => Number(/\d+/.exec(String(reason))?.[0])

/** No log line carries the user's data (attribute values, e-mail), nor any of `more`. */
function expectNoPersonalData(logs: readonly LogLine[], ...more: string[]) {
  const text = JSON.stringify(logs)
  for (const value of ['Avery', 'Malmö', 'Hiking', EMAIL, ...more])
    expect(text).not.toContain(value)
}

// --- the tests ----------------------------------------------------------------------------------

describe('what the API receives', () => {
  const it$ = withRemote({ onFailure: CONTINUE_POLICY })

  it('is one JSON POST to the configured URL, with the correlation id and every attribute as received', async () => {
    const res = await submit(it$.endpoint, (event) => {
      event.data.authenticationContext.clientServicePrincipal.appId =
        '66666666-7777-4888-9999-00000000ABCD'
    })
    expect(res.status).toBe(200)
    expect(res.json).toEqual(continued())
    expect(api.requests).toHaveLength(1)
    const [request] = api.requests
    expect(request?.method).toBe('POST')
    expect(request?.path).toBe(VALIDATE_PATH)
    expect(request?.headers['content-type']).toBe('application/json')
    expect(request?.headers.accept).toBe('application/json')
    expect(request?.headers['x-correlation-id']).toBe(CORRELATION_ID)
    expect(request?.headers).not.toHaveProperty('authorization')
    expect(request?.json).toEqual({
      type: 'attributeCollectionSubmit',
      correlationId: CORRELATION_ID,
      locale: 'sv-se',
      clientAppId: '66666666-7777-4888-9999-00000000abcd',
      email: EMAIL,
      attributes: RECEIVED,
    })
  })

  it('logs the action the API chose, and nothing of the user', async () => {
    const res = await submit(it$.endpoint)
    expect(res.logs).toContainEqual({
      level: 'info',
      event: 'remote_validation',
      fields: { correlationId: expect.any(String), action: 'continue', ms: expect.any(Number) },
    })
    expectNoPersonalData(res.logs)
  })
})

describe('normalisation before the call', () => {
  const it$ = withRemote(
    { onFailure: CONTINUE_POLICY },
    { attributes: { givenName: { normalize: ['trim'], required: true } } },
  )
  const paddedName = setAttribute('givenName', '  Avery ')

  it('sends the normalised value, and answers it back when the API says continue', async () => {
    const res = await submit(it$.endpoint, paddedName)
    expect(api.requests[0]?.json).toHaveProperty('attributes', { ...RECEIVED, givenName: 'Avery' })
    expect(res.status).toBe(200)
    expect(res.json).toEqual(modified({ givenName: 'Avery' }))
  })

  it("merges the API's changes with the normalised values", async () => {
    api.answer({
      kind: 'json',
      body: { action: 'modifyAttributeValues', attributes: { city: 'Lund' } },
    })
    const res = await submit(it$.endpoint, paddedName)
    expect(res.status).toBe(200)
    expect(res.json).toEqual(modified({ givenName: 'Avery', city: 'Lund' }))
  })

  it('lets the API override a normalised value', async () => {
    api.answer({
      kind: 'json',
      body: { action: 'modifyAttributeValues', attributes: { givenName: 'Avery-Lee' } },
    })
    const res = await submit(it$.endpoint, paddedName)
    expect(res.json).toEqual(modified({ givenName: 'Avery-Lee' }))
  })

  it('does not call the API when an attribute rule already failed', async () => {
    const res = await submit(it$.endpoint, setAttribute('givenName', '   '))
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject(
      validationError('Please correct the highlighted fields.', { givenName: expect.any(String) }),
    )
    expect(api.requests).toHaveLength(0)
  })
})

describe('answers the API may give', () => {
  const it$ = withRemote({ onFailure: BLOCK_POLICY })
  const modify = (attributes: Record<string, unknown>): CustomerAnswer => ({
    kind: 'json',
    body: { action: 'modifyAttributeValues', attributes },
  })

  it('continue → continueWithDefaultBehavior', async () => {
    const res = await submit(it$.endpoint)
    expect(res.status).toBe(200)
    expect(res.json).toEqual(continued())
  })

  it('tolerates fields of its own next to ours', async () => {
    api.answer({ kind: 'json', body: { action: 'continue', traceId: 'abc', score: 0.3 } })
    const res = await submit(it$.endpoint)
    expect(res.json).toEqual(continued())
  })

  it('modifyAttributeValues → the values under the names as received, in their types', async () => {
    api.answer(
      modify({
        GIVENNAME: 'Avery-Lee',
        [`${EXT}_MEMBERSINCE`]: 2020,
        [`${EXT}_Newsletter`]: true,
        [`${EXT}_interests`]: 'Chess',
      }),
    )
    const res = await submit(it$.endpoint)
    expect(res.status).toBe(200)
    expect(res.json).toEqual(
      modified({
        givenName: 'Avery-Lee',
        [`${EXT}_memberSince`]: 2020,
        [`${EXT}_newsletter`]: true,
        [`${EXT}_interests`]: 'Chess',
      }),
    )
  })

  it('showValidationError → passed through, the errors under the names as received', async () => {
    api.answer({
      kind: 'json',
      body: {
        action: 'showValidationError',
        message: 'Kontrollera fälten.',
        attributeErrors: { CITY: 'Vi levererar inte dit.', givenName: 'Ange ditt namn.' },
      },
    })
    const res = await submit(it$.endpoint)
    expect(res.status).toBe(200)
    expect(res.json).toEqual(
      validationError('Kontrollera fälten.', {
        city: 'Vi levererar inte dit.',
        givenName: 'Ange ditt namn.',
      }),
    )
  })

  it('showValidationError without attributeErrors → an empty map', async () => {
    api.answer({ kind: 'json', body: { action: 'showValidationError', message: 'Nej.' } })
    const res = await submit(it$.endpoint)
    expect(res.json).toEqual(validationError('Nej.', {}))
  })

  it('showBlockPage → passed through, with or without a title', async () => {
    api.answer({
      kind: 'json',
      body: { action: 'showBlockPage', title: 'Stängt', message: 'Registreringen är stängd.' },
    })
    expect((await submit(it$.endpoint)).json).toEqual(
      blockPage('Registreringen är stängd.', 'Stängt'),
    )
    api.answer({ kind: 'json', body: { action: 'showBlockPage', message: 'Stängt.' } })
    const res = await submit(it$.endpoint)
    expect(res.status).toBe(200)
    expect(res.json).toEqual(blockPage('Stängt.'))
  })

  describe('an unusable modifyAttributeValues → the onFailure policy, logged without values', () => {
    it('changes an attribute that was not collected', async () => {
      api.answer(modify({ givenName: 'Avery-Lee', nickname: 'Avy' }))
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(policyBlockPage())
      expect(failureReason(res.logs)).toBe(
        'unusable answer: "attributes.nickname" was not collected',
      )
      expectNoPersonalData(res.logs, 'Avery-Lee', 'Avy')
    })

    it('gives a string for an int64 attribute', async () => {
      api.answer(modify({ [`${EXT}_memberSince`]: '2020-01-01' }))
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(policyBlockPage())
      expect(failureReason(res.logs)).toBe(
        `unusable answer: "attributes.${EXT}_memberSince" must be an int64 value`,
      )
      expectNoPersonalData(res.logs, '2020-01-01')
    })

    it('gives a number for a string attribute', async () => {
      api.answer(modify({ city: 211 }))
      const res = await submit(it$.endpoint)
      expect(res.json).toEqual(policyBlockPage())
      expect(failureReason(res.logs)).toBe(
        'unusable answer: "attributes.city" must be a string value',
      )
    })

    it('gives a value no attribute can hold', async () => {
      api.answer(modify({ givenName: { first: 'Avery' } }))
      const res = await submit(it$.endpoint)
      expect(res.json).toEqual(policyBlockPage())
      expect(failureReason(res.logs)).toMatch(/^unusable answer: "attributes\.givenName": /)
      expectNoPersonalData(res.logs)
    })
  })
})

describe('when the API fails', () => {
  /** Each way to fail, and the reason logged for it. */
  const failures: [string, CustomerAnswer, string | RegExp][] = [
    [
      'answers HTTP 500 (even with a valid body)',
      { kind: 'json', status: 500, body: { action: 'continue' } },
      'answered HTTP 500',
    ],
    [
      'answers HTTP 429',
      { kind: 'json', status: 429, body: { error: 'slow down' } },
      'answered HTTP 429',
    ],
    [
      'answers something other than JSON',
      { kind: 'text', body: '<html>Service Unavailable</html>' },
      'answered something other than JSON',
    ],
    [
      'answers JSON of the wrong shape',
      { kind: 'json', body: { action: 'allow' } },
      /^unusable answer: "action": /,
    ],
    [
      'answers a JSON array',
      { kind: 'json', body: [{ action: 'continue' }] },
      /^unusable answer: /,
    ],
    [
      'declares an answer over 64 KiB',
      { kind: 'oversized', bytes: 70_000, chunked: false },
      'answered more than 65536 bytes',
    ],
    [
      'streams an answer over 64 KiB',
      { kind: 'oversized', bytes: 70_000, chunked: true },
      'answered more than 65536 bytes',
    ],
    [
      'redirects (not followed)',
      { kind: 'redirect', status: 307 },
      'answered HTTP 307 (redirects are not followed)',
    ],
    ['drops the connection', { kind: 'reset' }, 'the connection failed'],
    ['hangs', { kind: 'hang' }, TIMED_OUT],
    [
      'answers after its timeout',
      { kind: 'slow', delayMs: 600, then: { kind: 'json', body: { action: 'continue' } } },
      TIMED_OUT,
    ],
  ]

  describe('with onFailure continue → continueWithDefaultBehavior', () => {
    const it$ = withRemote({ timeoutMs: 200, onFailure: CONTINUE_POLICY })

    it.each(failures)('when it %s', async (_, failure, reason) => {
      api.answer(failure)
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(continued())
      expect(failureReason(res.logs)).toEqual(
        typeof reason === 'string' ? reason : expect.stringMatching(reason),
      )
      // One call: no retry, and a redirect is not followed to REDIRECT_TARGET.
      expect(api.requests.map((request) => request.path)).toEqual([VALIDATE_PATH])
      expectNoPersonalData(res.logs)
    })
  })

  describe("with onFailure showBlockPage → the block page in the user's language", () => {
    const it$ = withRemote({ timeoutMs: 200, onFailure: BLOCK_POLICY })

    it.each(failures)('when it %s', async (_, failure, reason) => {
      api.answer(failure)
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(policyBlockPage())
      expect(failureReason(res.logs)).toEqual(
        typeof reason === 'string' ? reason : expect.stringMatching(reason),
      )
      expect(api.requests.map((request) => request.path)).toEqual([VALIDATE_PATH])
    })

    it('falls back to the default locale for a language without a text', async () => {
      api.answer({ kind: 'json', status: 500, body: {} })
      const res = await submit(it$.endpoint, (event) => {
        event.data.authenticationContext.client.locale = 'de-de'
      })
      expect(res.json).toEqual(blockPage(BLOCK_POLICY.message.en, BLOCK_POLICY.title.en))
    })
  })

  describe('when nothing listens at the URL', () => {
    let refusedUrl: string
    beforeAll(async () => {
      refusedUrl = await closedPortUrl()
    })

    describe('with onFailure continue', () => {
      const it$ = withRemote(() => ({ url: refusedUrl, onFailure: CONTINUE_POLICY }))

      it('answers continueWithDefaultBehavior', async () => {
        const res = await submit(it$.endpoint)
        expect(res.status).toBe(200)
        expect(res.json).toEqual(continued())
        expect(failureReason(res.logs)).toBe('the connection failed')
      })
    })

    describe('with onFailure showBlockPage', () => {
      const it$ = withRemote(() => ({ url: refusedUrl, onFailure: BLOCK_POLICY }))

      it('answers the block page', async () => {
        const res = await submit(it$.endpoint)
        expect(res.status).toBe(200)
        expect(res.json).toEqual(policyBlockPage())
        expect(failureReason(res.logs)).toBe('the connection failed')
      })
    })
  })
})

describe('time limits', () => {
  describe('timeoutMs inside the request budget', () => {
    const it$ = withRemote({ timeoutMs: 500, onFailure: CONTINUE_POLICY })

    it('waits for a slow answer that comes within timeoutMs', async () => {
      api.answer({
        kind: 'slow',
        delayMs: 100,
        then: { kind: 'json', body: { action: 'showBlockPage', message: 'Nej.' } },
      })
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(blockPage('Nej.'))
    })
  })

  describe('timeoutMs 200 under the default budget of 750 ms', () => {
    const it$ = withRemote({ timeoutMs: 200, onFailure: BLOCK_POLICY })

    it('gives up on a hanging API at its own timeout and answers the policy in time', async () => {
      api.answer({ kind: 'hang' })
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(policyBlockPage())
      expect(res.ms).toBeLessThan(750)
      const reason = failureReason(res.logs)
      expect(reason).toMatch(TIMED_OUT)
      expect(timeoutIn(reason)).toBeLessThanOrEqual(200)
    })
  })

  describe('timeoutMs 1800 over a budget of 300 ms', () => {
    const it$ = withRemote(
      { timeoutMs: 1800, onFailure: BLOCK_POLICY },
      { env: { REQUEST_BUDGET_MS: '300' } },
    )

    it('caps the call at the deadline minus the answer reserve: 200 with the policy, not 504', async () => {
      api.answer({ kind: 'hang' })
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(policyBlockPage())
      const reason = failureReason(res.logs)
      expect(reason).toMatch(TIMED_OUT)
      // The call's own limit came from the budget (300 - 50 ms reserve), not from timeoutMs.
      expect(timeoutIn(reason)).toBeLessThanOrEqual(250)
    })
  })
})

describe('header auth', () => {
  const SECRET = 'sk-live-7f3a9c2e4b1d'
  const HEADER_AUTH = { type: 'header', name: 'x-api-key', secretSetting: 'SIGNUP_API_KEY' }

  describe('with the secret app setting set', () => {
    const it$ = withRemote(
      { auth: HEADER_AUTH, timeoutMs: 200, onFailure: CONTINUE_POLICY },
      { env: { SIGNUP_API_KEY: SECRET } },
    )

    it('sends the secret in the configured header', async () => {
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(api.requests[0]?.headers['x-api-key']).toBe(SECRET)
      expect(api.requests[0]?.headers).not.toHaveProperty('authorization')
    })

    it('never logs the secret, whether the call works or fails', async () => {
      await submit(it$.endpoint)
      api.answer({ kind: 'json', status: 401, body: { error: `bad key ${SECRET}` } })
      const failed = await submit(it$.endpoint)
      expect(failureReason(failed.logs)).toBe('answered HTTP 401')
      expect(it$.endpoint.logs.length).toBeGreaterThan(0)
      expect(JSON.stringify(it$.endpoint.logs)).not.toContain(SECRET)
    })
  })

  describe('without the secret app setting', () => {
    async function startupProblems(env: Record<string, string>): Promise<readonly string[]> {
      const path = writeExtensionConfig({
        attributeCollectionSubmit: {
          remoteValidation: { url: api.url, auth: HEADER_AUTH, onFailure: CONTINUE_POLICY },
        },
      })
      const started = startTestEndpoint(issuer, { EXTENSION_CONFIG: path, ...env })
      const err: unknown = await started.then(
        async (endpoint) => {
          await endpoint.close()
          return undefined
        },
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ConfigError)
      return (err as ConfigError).problems
    }

    it('refuses to start, naming the setting', async () => {
      const problems = await startupProblems({})
      expect(problems).toContain(
        'SIGNUP_API_KEY: is required (EXTENSION_CONFIG attributeCollectionSubmit.remoteValidation.auth.secretSetting names it)',
      )
    })

    it('counts an empty setting as unset', async () => {
      const problems = await startupProblems({ SIGNUP_API_KEY: '  ' })
      expect(problems.some((p) => p.startsWith('SIGNUP_API_KEY: is required'))).toBe(true)
    })

    it('refuses a secret that would break the header, without echoing it', async () => {
      const problems = await startupProblems({ SIGNUP_API_KEY: `${SECRET}\r\nx-evil: 1` })
      expect(problems).toContain(
        'SIGNUP_API_KEY: must be a single line (it is sent as an HTTP header)',
      )
      expect(problems.join('\n')).not.toContain(SECRET)
    })
  })
})

describe('managed identity auth', () => {
  const SCOPE = 'api://signup-api/.default'
  let mi: Awaited<ReturnType<typeof startManagedIdentity>>
  let restoreEnvironment: () => void
  beforeAll(async () => {
    mi = await startManagedIdentity()
    restoreEnvironment = mi.useEnvironment()
  })
  afterAll(async () => {
    restoreEnvironment()
    await mi.close()
  })
  beforeEach(() => {
    mi.mode = { kind: 'up' }
  })

  describe('with the system-assigned identity', () => {
    const it$ = withRemote({
      auth: { type: 'managedIdentity', scope: SCOPE },
      onFailure: BLOCK_POLICY,
    })

    it('sends a token from the identity endpoint as the bearer token', async () => {
      const hitsBefore = mi.hits
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(continued())
      expect(mi.hits).toBe(hitsBefore + 1)
      const asked = mi.requests.at(-1)
      expect(asked?.query.get('api-version')).toBe(API_VERSION)
      expect(asked?.query.get('resource')).toBe('api://signup-api')
      expect(asked?.query.has('client_id')).toBe(false)
      expect(asked?.headers['x-identity-header']).toBe(mi.secret)
      expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${mi.issued.at(-1)}`)
    })

    it('reuses the cached token on the next call', async () => {
      await submit(it$.endpoint)
      const hitsBefore = mi.hits
      const res = await submit(it$.endpoint)
      expect(res.json).toEqual(continued())
      expect(mi.hits).toBe(hitsBefore)
      expect(api.requests.at(-1)?.headers.authorization).toBe(`Bearer ${mi.issued.at(-1)}`)
    })

    it('never logs the token', async () => {
      await submit(it$.endpoint)
      expect(mi.issued.length).toBeGreaterThan(0)
      const text = JSON.stringify(it$.endpoint.logs)
      for (const token of mi.issued) expect(text).not.toContain(token)
    })
  })

  describe('with a user-assigned identity', () => {
    const CLIENT_ID = '77777777-8888-4999-8aaa-bbbbbbbbbbbb'
    const it$ = withRemote({
      auth: { type: 'managedIdentity', scope: 'api://signup-api-ua/.default', clientId: CLIENT_ID },
      onFailure: BLOCK_POLICY,
    })

    it("asks the identity endpoint for that identity's token", async () => {
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(continued())
      const asked = mi.requests.at(-1)
      expect(asked?.query.get('client_id')).toBe(CLIENT_ID)
      expect(asked?.query.get('resource')).toBe('api://signup-api-ua')
      expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${mi.issued.at(-1)}`)
    })
  })

  describe('when the identity endpoint fails', () => {
    // A scope of its own: no token cached by the tests above can answer for it.
    const it$ = withRemote({
      auth: { type: 'managedIdentity', scope: 'api://signup-api-down/.default' },
      timeoutMs: 300,
      onFailure: BLOCK_POLICY,
    })

    it.each([400, 500])(
      'answers the policy without calling the API, for HTTP %i',
      async (status) => {
        mi.mode = { kind: 'fail', status }
        const hitsBefore = mi.hits
        const res = await submit(it$.endpoint)
        expect(res.status).toBe(200)
        expect(res.json).toEqual(policyBlockPage())
        expect(mi.hits).toBeGreaterThan(hitsBefore)
        expect(api.requests).toHaveLength(0)
        expect(failureReason(res.logs)).toMatch(
          /^(an access token could not be obtained|no access token within \d+ ms)$/,
        )
      },
    )

    it('answers the onFailure policy without calling the API, when it hangs', async () => {
      mi.mode = { kind: 'hang' }
      const res = await submit(it$.endpoint)
      expect(res.status).toBe(200)
      expect(res.json).toEqual(policyBlockPage())
      expect(api.requests).toHaveLength(0)
      expect(failureReason(res.logs)).toMatch(/^no access token within \d+ ms$/)
    })
  })
})

describe('start-up refusals', () => {
  async function startWith(remoteValidation: Record<string, unknown>): Promise<unknown> {
    const path = writeExtensionConfig({ attributeCollectionSubmit: { remoteValidation } })
    return startTestEndpoint(issuer, { EXTENSION_CONFIG: path }).then(
      async (endpoint) => {
        await endpoint.close()
        return { started: true, path }
      },
      (err: unknown) => ({ err, path }),
    )
  }

  it('refuses a plain http URL to a host that is not loopback, naming the field', async () => {
    const outcome = (await startWith({
      url: 'http://example.com/x',
      onFailure: CONTINUE_POLICY,
    })) as { err: unknown; path: string }
    expect(outcome.err).toBeInstanceOf(ConfigError)
    expect((outcome.err as ConfigError).problems).toEqual([
      `EXTENSION_CONFIG: ${outcome.path}: attributeCollectionSubmit.remoteValidation.url: must be an https URL (http only for loopback hosts)`,
    ])
  })

  it('accepts an https URL without calling it at start-up', async () => {
    const outcome = await startWith({
      url: 'https://signup-api.example.com/validate',
      onFailure: CONTINUE_POLICY,
    })
    expect(outcome).toMatchObject({ started: true })
  })
})
