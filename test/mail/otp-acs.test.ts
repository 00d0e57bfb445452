// OnOtpSend through Azure Communication Services Email, end to end: the real local host, a token
// from the loopback issuer, the official EmailClient (HMAC-signed with the connection string's key)
// against the HTTPS ACS stand-in. "Sent" is the 202 of the POST: the operation's later status, even
// a failed poll, does not change the answer. Refusals, throttling and outages map to 502/503 with
// one POST (no client retries), a hang to 504 within the budget; logs hold no secret.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startAcsEmailApi, type AcsEmailStandIn } from '../support/acs-email-api.js'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type LogLine,
  type TestEndpoint,
  type TestResponse,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

const ADDRESS = 'avery@example.org' // the fixture's recipient
const CODE = '48213907' // the fixture's code
const FROM = 'DoNotReply@contoso.example'
const SUCCESS = {
  data: {
    '@odata.type': 'microsoft.graph.OnOtpSendResponseData',
    actions: [{ '@odata.type': 'microsoft.graph.OtpSend.continueWithDefaultBehavior' }],
  },
}
const ROOMY_LIMIT = { maxPerRecipient: 1000, windowSeconds: 600 }

let issuer: TestIssuer
let acs: AcsEmailStandIn
const wrongKey = randomBytes(32).toString('base64')

const allLogs: LogLine[][] = []
const codes = new Set<string>([CODE])
let codeCount = 0
function freshCode(): string {
  codeCount += 1
  const code = String(64_000_000 + codeCount * 1_013)
  codes.add(code)
  return code
}

beforeAll(async () => {
  issuer = await startTestIssuer()
  acs = await startAcsEmailApi()
})
afterAll(async () => {
  await acs.close()
  await issuer.close()
})
beforeEach(() => {
  acs.reset()
})

function withConfig(env: () => Record<string, string> = () => ({})): {
  readonly endpoint: TestEndpoint
} {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    holder.endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: writeExtensionConfig({ otpSend: { rateLimit: ROOMY_LIMIT } }),
      MAIL_PROVIDER: 'acs',
      MAIL_FROM: FROM,
      ACS_CONNECTION_STRING: acs.connectionString,
      REQUEST_BUDGET_MS: '1500',
      ...env(),
    })
    allLogs.push(holder.endpoint.logs)
  })
  afterAll(async () => {
    await holder.endpoint.close()
  })
  return holder
}

type OtpEvent = ReturnType<typeof fixture>
const withCode = (code: string) => (event: OtpEvent) => {
  event.data.otpContext.oneTimeCode = code
}
function post(endpoint: TestEndpoint, ...edits: ((event: OtpEvent) => void)[]) {
  const event = fixture('otp-send')
  for (const edit of edits) edit(event)
  return endpoint.post('onOtpSend', event)
}
const errorOf = (res: TestResponse) =>
  (res.json as { error: { code: string; message: string } }).error
const lastLog = (endpoint: TestEndpoint, event: string) =>
  endpoint.logs.filter((line) => line.event === event).at(-1)?.fields

describe('delivery through ACS', () => {
  const it$ = withConfig()

  it('answers 200 once ACS accepted the message (202), with one signed POST', async () => {
    const res = await post(it$.endpoint)
    expect(res.status, res.text).toBe(200)
    expect(res.json).toEqual(SUCCESS)

    expect(acs.messages).toHaveLength(1)
    const [message] = acs.messages
    expect(message).toMatchObject({ senderAddress: FROM, to: [ADDRESS] })
    expect(message?.subject).toBe(`Your Contoso Shop code: ${CODE}`)
    expect(message?.plainText).toContain(CODE)
    expect(message?.html).toContain(CODE)
    expect(message?.html).toContain('<html lang="en">')
    expect(message?.body.userEngagementTrackingDisabled).toBe(true)
    expect(acs.hits('send')).toBe(1)
    const posts = acs.requests.filter((r) => r.kind === 'send')
    expect(posts.map((r) => [r.status, r.signatureValid])).toEqual([[202, true]])

    const sent = lastLog(it$.endpoint, 'otp_sent')
    expect(sent).toMatchObject({ provider: 'acs', locale: 'en' })
    expect(sent?.recipient).toMatch(/^[0-9a-f]{16}$/)
  })

  it('writes Swedish for locale sv-se', async () => {
    const code = freshCode()
    const res = await post(it$.endpoint, withCode(code), (e) => {
      e.data.authenticationContext.client.locale = 'sv-se'
    })
    expect(res.status, res.text).toBe(200)
    expect(acs.messages[0]?.subject).toBe(`Din kod för Contoso Shop: ${code}`)
  })

  it('still answers 200 when the status poll after the accepted POST fails (HTTP 500)', async () => {
    acs.fault({ kind: 'status', status: 500 }, { on: 'poll', times: 1 })
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(200)
    expect(res.json).toEqual(SUCCESS)
    expect(acs.hits('send')).toBe(1)
    expect(acs.hits('poll')).toBe(1)
    expect(acs.requests.find((r) => r.kind === 'poll')?.status).toBe(500)
    expect(acs.messages).toHaveLength(1)
    expect(lastLog(it$.endpoint, 'otp_sent')).toMatchObject({ provider: 'acs' })
  })

  it('still answers 200 when the operation reports Failed (delivery is ACS’s job after the 202)', async () => {
    acs.outcome({
      status: 'Failed',
      error: { code: 'EmailDroppedAllRecipientsSuppressed', message: 'suppressed' },
    })
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(200)
    expect(acs.hits('send')).toBe(1)
    expect(acs.hits('poll')).toBeGreaterThanOrEqual(1)
    expect(acs.messages).toHaveLength(1)
  })

  it('a duplicate of a sent code sends nothing', async () => {
    const code = freshCode()
    expect((await post(it$.endpoint, withCode(code))).status).toBe(200)
    const again = await post(it$.endpoint, withCode(code))
    expect(again.status, again.text).toBe(200)
    expect(acs.hits('send')).toBe(1)
  })
})

describe('ACS failures', () => {
  const it$ = withConfig()

  it.each([
    [400, 502, 'ERR_MAIL_REJECTED', 'rejected'],
    [403, 502, 'ERR_MAIL_REJECTED', 'rejected'],
    [429, 503, 'ERR_MAIL_UNAVAILABLE', 'unavailable'],
    [500, 503, 'ERR_MAIL_UNAVAILABLE', 'unavailable'],
    [503, 503, 'ERR_MAIL_UNAVAILABLE', 'unavailable'],
  ])('ACS %i → %i %s, with exactly one POST', async (status, answer, code, failure) => {
    acs.fault({ kind: 'status', status })
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(answer)
    expect(errorOf(res).code).toBe(code)
    // No retries inside the client (its default would retry 429 and 5xx): Entra retries or falls back.
    expect(acs.hits('send')).toBe(1)
    expect(acs.hits('poll')).toBe(0)
    expect(acs.messages).toHaveLength(0)
    const failed = lastLog(it$.endpoint, 'otp_send_failed')
    expect(failed).toMatchObject({ provider: 'acs', failure, providerStatus: status })
    expect(failed?.recipient).toMatch(/^[0-9a-f]{16}$/)
  })

  it('a dropped connection → 503 ERR_MAIL_UNAVAILABLE', async () => {
    acs.fault({ kind: 'reset' })
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(503)
    expect(errorOf(res).code).toBe('ERR_MAIL_UNAVAILABLE')
    expect(acs.hits('send')).toBe(1)
    expect(lastLog(it$.endpoint, 'otp_send_failed')).not.toHaveProperty('providerStatus')
  })

  it('a retry after a failure sends', async () => {
    const code = freshCode()
    acs.fault({ kind: 'status', status: 503 }, { times: 1 })
    expect((await post(it$.endpoint, withCode(code))).status).toBe(503)
    const retry = await post(it$.endpoint, withCode(code))
    expect(retry.status, retry.text).toBe(200)
    expect(acs.messages).toHaveLength(1)
  })
})

describe('a connection string with the wrong access key', () => {
  const it$ = withConfig(() => ({
    ACS_CONNECTION_STRING: `endpoint=${acs.origin}/;accesskey=${wrongKey}`,
  }))

  it('is refused by ACS (401) → 502 ERR_MAIL_REJECTED', async () => {
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(502)
    expect(errorOf(res).code).toBe('ERR_MAIL_REJECTED')
    expect(acs.requests.map((r) => [r.kind, r.status, r.signatureValid])).toEqual([
      ['send', 401, false],
    ])
    expect(acs.messages).toHaveLength(0)
    expect(lastLog(it$.endpoint, 'otp_send_failed')).toMatchObject({
      provider: 'acs',
      failure: 'rejected',
      providerStatus: 401,
    })
  })
})

describe('ACS that never answers, with a 400 ms budget', () => {
  const BUDGET_MS = 400
  const it$ = withConfig(() => ({ REQUEST_BUDGET_MS: String(BUDGET_MS) }))

  beforeAll(async () => {
    // Signing keys fetched, a token minted, a TLS connection to ACS open: only the hang is timed.
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(200)
  })

  it('answers 504 ERR_MAIL_TIMEOUT within the budget', async () => {
    acs.fault({ kind: 'hang' }, { times: 1 })
    const started = performance.now()
    const res = await post(it$.endpoint, withCode(freshCode()))
    const elapsed = performance.now() - started
    expect(res.status, res.text).toBe(504)
    expect(errorOf(res).code).toBe('ERR_MAIL_TIMEOUT')
    expect(elapsed).toBeLessThan(BUDGET_MS + 300)
    expect(acs.hits('send')).toBe(1)
    expect(acs.messages).toHaveLength(0)
    expect(lastLog(it$.endpoint, 'otp_send_failed')).toMatchObject({
      provider: 'acs',
      failure: 'timeout',
    })
  })

  it('a status poll that never answers after the accepted POST still answers 200 within the budget', async () => {
    acs.fault({ kind: 'hang' }, { on: 'poll', times: 1 })
    const started = performance.now()
    const res = await post(it$.endpoint, withCode(freshCode()))
    const elapsed = performance.now() - started
    expect(res.status, res.text).toBe(200)
    expect(elapsed).toBeLessThan(BUDGET_MS + 300)
    expect(acs.hits('send')).toBe(1)
    expect(acs.messages).toHaveLength(1)
  })
})

describe('what the logs hold', () => {
  it('no log line of this file holds a code, the address, an access key or the endpoint', () => {
    const text = JSON.stringify(allLogs)
    expect(allLogs.flat().length).toBeGreaterThan(15)
    for (const code of codes) expect(text).not.toContain(code)
    expect(text).not.toContain(ADDRESS)
    expect(text.toLowerCase()).not.toContain('avery@')
    expect(text).not.toContain(acs.accessKey)
    expect(text).not.toContain(wrongKey)
    expect(text.toLowerCase()).not.toContain('accesskey')
  })
})
