// OnOtpSend through SendGrid, end to end: the real local host, a token from the loopback issuer,
// the official SendGrid client against the SendGrid stand-in. The message and its templates, every
// provider answer mapped to ours, the request budget, retry safety (duplicates, concurrent
// duplicates, a retry after a failure), the per-recipient rate limit, and logs that hold neither
// the code, nor the address, nor the API key.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type LogLine,
  type TestEndpoint,
  type TestResponse,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { startSendGridApi, type SendGridStandIn } from '../support/sendgrid-api.js'

const ADDRESS = 'avery@example.org' // the fixture's recipient
const CODE = '48213907' // the fixture's code
const FROM = 'no-reply@contoso.example'
const API_KEY = 'SG.otp-tests.4f9c2b7e1a6d3c8f0b5e2a9d7c4f1e6b'
const WRONG_KEY = 'SG.otp-tests.wrong-key-00000000000000000000000'
const LOG_HASH_KEY = 'otp-sendgrid-log-hash-key-0123456789'
const SUCCESS = {
  data: {
    '@odata.type': 'microsoft.graph.OnOtpSendResponseData',
    actions: [{ '@odata.type': 'microsoft.graph.OtpSend.continueWithDefaultBehavior' }],
  },
}
/** Room for every test's sends to one address; the rate limit has its own block. */
const ROOMY_LIMIT = { maxPerRecipient: 1000, windowSeconds: 600 }

let issuer: TestIssuer
let sendgrid: SendGridStandIn

/** Every log line of every endpoint in this file, scanned for secrets at the end. */
const allLogs: LogLine[][] = []
/** Every code sent in this file: none may reach a log line. */
const codes = new Set<string>([CODE])
let codeCount = 0
/** A code no other test used: the duplicate check keys on recipient and code. */
function freshCode(): string {
  codeCount += 1
  const code = String(73_000_000 + codeCount * 1_009)
  codes.add(code)
  return code
}

beforeAll(async () => {
  issuer = await startTestIssuer()
  sendgrid = await startSendGridApi({ apiKey: API_KEY })
})
afterAll(async () => {
  await sendgrid.close()
  await issuer.close()
})
beforeEach(() => {
  sendgrid.reset()
})

function withConfig(
  otpSend: Record<string, unknown>,
  env: Record<string, string> = {},
): { readonly endpoint: TestEndpoint } {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    holder.endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: writeExtensionConfig({ otpSend }),
      MAIL_PROVIDER: 'sendgrid',
      MAIL_FROM: FROM,
      SENDGRID_BASE_URL: sendgrid.baseUrl,
      SENDGRID_API_KEY: API_KEY,
      LOG_HASH_KEY,
      REQUEST_BUDGET_MS: '1500',
      ...env,
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
const logsOf = (endpoint: TestEndpoint, event: string) =>
  endpoint.logs.filter((line) => line.event === event).map((line) => line.fields)
const lastLog = (endpoint: TestEndpoint, event: string) => logsOf(endpoint, event).at(-1)

/** The shipped template for `locale`, filled as the product documents it. */
function rendered(locale: string, values: Record<string, string>) {
  const file = JSON.parse(
    readFileSync(new URL(`../../config/mail-templates/${locale}.json`, import.meta.url), 'utf8'),
  ) as { subject: string; text: string; html: string }
  const fill = (text: string) =>
    text.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => values[name] ?? `<${name}?>`)
  return { subject: fill(file.subject), text: fill(file.text), html: fill(file.html) }
}
const FIXTURE_VALUES = {
  code: CODE,
  recipient: 'avery',
  appName: 'Contoso Shop',
  expiryMinutes: '10',
}

describe('delivery through SendGrid', () => {
  const it$ = withConfig({ rateLimit: ROOMY_LIMIT })

  it('answers 200 with continueWithDefaultBehavior once SendGrid accepted the English message', async () => {
    const res = await post(it$.endpoint)
    expect(res.status, res.text).toBe(200)
    expect(res.json).toEqual(SUCCESS)

    expect(sendgrid.messages).toHaveLength(1)
    const [message] = sendgrid.messages
    const english = rendered('en', FIXTURE_VALUES)
    expect(message).toMatchObject({
      apiKey: API_KEY,
      from: FROM,
      to: [ADDRESS],
      subject: english.subject,
      text: english.text,
      html: english.html,
    })
    expect(message?.subject).toContain(CODE)
    expect(message?.text).toContain(CODE)
    expect(message?.html).toContain(CODE)
    expect(message?.html).toContain('<html lang="en">')
    // No click or open tracking: SendGrid would otherwise rewrite the body and add a pixel.
    expect(message?.body.tracking_settings).toEqual({
      click_tracking: { enable: false },
      open_tracking: { enable: false },
    })

    const sent = lastLog(it$.endpoint, 'otp_sent')
    expect(sent).toMatchObject({ provider: 'sendgrid', locale: 'en' })
    expect(sent?.recipient).toMatch(/^[0-9a-f]{16}$/)
  })

  it('writes Swedish for locale sv-se', async () => {
    const code = freshCode()
    const res = await post(it$.endpoint, withCode(code), (e) => {
      e.data.authenticationContext.client.locale = 'sv-se'
    })
    expect(res.status, res.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
    const [message] = sendgrid.messages
    expect(message?.subject).toMatch(/^Din kod för /)
    expect(message).toMatchObject(rendered('sv', { ...FIXTURE_VALUES, code }))
    expect(message?.html).toContain('<html lang="sv">')
    expect(lastLog(it$.endpoint, 'otp_sent')?.locale).toBe('sv')
  })

  it('falls back to the default language (en) for a locale without a template (pt-br)', async () => {
    const code = freshCode()
    const res = await post(it$.endpoint, withCode(code), (e) => {
      e.data.authenticationContext.client.locale = 'pt-br'
    })
    expect(res.status, res.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
    expect(sendgrid.messages[0]).toMatchObject(rendered('en', { ...FIXTURE_VALUES, code }))
    expect(lastLog(it$.endpoint, 'otp_sent')?.locale).toBe('en')
  })

  it('escapes a hostile app display name in the HTML part, and keeps it as given in the text', async () => {
    const hostile = '<script>alert(1)</script>'
    const code = freshCode()
    const res = await post(it$.endpoint, withCode(code), (e) => {
      e.data.authenticationContext.clientServicePrincipal.appDisplayName = hostile
    })
    expect(res.status, res.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
    const [message] = sendgrid.messages
    expect(message?.html).not.toContain('<script')
    expect(message?.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(message?.text).toContain(hostile)
    expect(message?.html).toContain(code)
  })

  it('reads the code spelled otpContext.onetimecode (as in Microsoft sample)', async () => {
    const code = freshCode()
    const res = await post(it$.endpoint, (e) => {
      e.data.otpContext = { identifier: ADDRESS, onetimecode: code }
    })
    expect(res.status, res.text).toBe(200)
    expect(res.json).toEqual(SUCCESS)
    expect(sendgrid.messages).toHaveLength(1)
    expect(sendgrid.messages[0]?.to).toEqual([ADDRESS])
    expect(sendgrid.messages[0]?.text).toContain(code)
  })
})

describe('SendGrid failures', () => {
  const it$ = withConfig({ rateLimit: ROOMY_LIMIT })

  it.each([
    [400, 502, 'ERR_MAIL_REJECTED', 'rejected'],
    [401, 502, 'ERR_MAIL_REJECTED', 'rejected'],
    [403, 502, 'ERR_MAIL_REJECTED', 'rejected'],
    [413, 502, 'ERR_MAIL_REJECTED', 'rejected'],
    [429, 503, 'ERR_MAIL_UNAVAILABLE', 'unavailable'],
    [500, 503, 'ERR_MAIL_UNAVAILABLE', 'unavailable'],
    [503, 503, 'ERR_MAIL_UNAVAILABLE', 'unavailable'],
  ])('SendGrid %i → %i %s, logged with the status', async (status, answer, code, failure) => {
    sendgrid.fault({ kind: 'status', status })
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(answer)
    expect(errorOf(res).code).toBe(code)
    expect(sendgrid.messages).toHaveLength(0)
    // One try: neither the client nor the product retries (a retry is Entra's to make).
    expect(sendgrid.requests).toHaveLength(1)
    const failed = lastLog(it$.endpoint, 'otp_send_failed')
    expect(failed).toMatchObject({ provider: 'sendgrid', failure, providerStatus: status })
    expect(failed?.recipient).toMatch(/^[0-9a-f]{16}$/)
  })

  it('a dropped connection → 503 ERR_MAIL_UNAVAILABLE, logged without a provider status', async () => {
    sendgrid.fault({ kind: 'reset' })
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(503)
    expect(errorOf(res).code).toBe('ERR_MAIL_UNAVAILABLE')
    const failed = lastLog(it$.endpoint, 'otp_send_failed')
    expect(failed).toMatchObject({ provider: 'sendgrid', failure: 'unavailable' })
    expect(failed).not.toHaveProperty('providerStatus')
  })

  it('the error body names the outcome, not the address or the code', async () => {
    const code = freshCode()
    sendgrid.fault({ kind: 'status', status: 400 })
    const res = await post(it$.endpoint, withCode(code))
    expect(res.status).toBe(502)
    expect(Object.keys(res.json as object)).toEqual(['error'])
    expect(Object.keys(errorOf(res)).sort()).toEqual(['code', 'message'])
    expect(res.text).not.toContain(code)
    expect(res.text).not.toContain('avery')
  })
})

describe('a wrong SendGrid API key', () => {
  const it$ = withConfig({ rateLimit: ROOMY_LIMIT }, { SENDGRID_API_KEY: WRONG_KEY })

  it('is refused by SendGrid (401) → 502 ERR_MAIL_REJECTED', async () => {
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(502)
    expect(errorOf(res).code).toBe('ERR_MAIL_REJECTED')
    expect(sendgrid.requests.map((r) => r.status)).toEqual([401])
    expect(sendgrid.messages).toHaveLength(0)
    expect(lastLog(it$.endpoint, 'otp_send_failed')).toMatchObject({ providerStatus: 401 })
  })

  it('shows in health from the start-up check of the key (GET /v3/scopes), without the key', async () => {
    await expect
      .poll(() => it$.endpoint.logs.some((line) => line.event === 'mail_credential_failed'))
      .toBe(true)
    const anonymous = await fetch(`${it$.endpoint.url}/api/health`)
    expect(anonymous.status).toBe(503)
    const details = await fetch(`${it$.endpoint.url}/api/health`, {
      headers: { authorization: `Bearer ${await issuer.mint()}` },
    })
    const text = await details.text()
    expect(JSON.parse(text)).toMatchObject({
      status: 'unavailable',
      code: 'mail_credential_failed',
    })
    expect(text + JSON.stringify(it$.endpoint.logs)).not.toContain(WRONG_KEY)
  })
})

describe('the right SendGrid API key', () => {
  const it$ = withConfig({ rateLimit: ROOMY_LIMIT })

  it('passes the start-up check: health 200, and the check is no send', async () => {
    await expect
      .poll(() => it$.endpoint.logs.some((line) => line.event === 'mail_credential_ready'))
      .toBe(true)
    expect((await fetch(`${it$.endpoint.url}/api/health`)).status).toBe(200)
    expect(sendgrid.scopeChecks).toContain(200)
    expect(sendgrid.messages).toHaveLength(0)
  })
})

describe('SendGrid that never answers, with a 400 ms budget', () => {
  const BUDGET_MS = 400
  const it$ = withConfig({ rateLimit: ROOMY_LIMIT }, { REQUEST_BUDGET_MS: String(BUDGET_MS) })

  beforeAll(async () => {
    // Signing keys fetched, a token minted, a connection to SendGrid open: only the hang is timed.
    const res = await post(it$.endpoint, withCode(freshCode()))
    expect(res.status, res.text).toBe(200)
  })

  it('answers 504 ERR_MAIL_TIMEOUT within the budget, and logs the timeout', async () => {
    sendgrid.fault({ kind: 'hang' }, { times: 1 })
    const started = performance.now()
    const res = await post(it$.endpoint, withCode(freshCode()))
    const elapsed = performance.now() - started
    expect(res.status, res.text).toBe(504)
    expect(errorOf(res).code).toBe('ERR_MAIL_TIMEOUT')
    expect(elapsed).toBeLessThan(BUDGET_MS + 300)
    const failed = lastLog(it$.endpoint, 'otp_send_failed')
    expect(failed).toMatchObject({ provider: 'sendgrid', failure: 'timeout' })
    expect(failed).not.toHaveProperty('providerStatus')
    expect(sendgrid.messages).toHaveLength(0)
  })

  it('a retry of the timed-out code sends it', async () => {
    const code = freshCode()
    sendgrid.fault({ kind: 'hang' }, { times: 1 })
    expect((await post(it$.endpoint, withCode(code))).status).toBe(504)
    const retry = await post(it$.endpoint, withCode(code))
    expect(retry.status, retry.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
  })

  it('concurrent duplicates share the first send’s failure: both 504, one request to SendGrid', async () => {
    const code = freshCode()
    sendgrid.fault({ kind: 'hang' }, { times: 1 })
    const [first, second] = await Promise.all([
      post(it$.endpoint, withCode(code)),
      post(it$.endpoint, withCode(code)),
    ])
    expect([first.status, second.status]).toEqual([504, 504])
    expect(errorOf(first).code).toBe('ERR_MAIL_TIMEOUT')
    expect(errorOf(second).code).toBe('ERR_MAIL_TIMEOUT')
    expect(sendgrid.requests).toHaveLength(1)
    expect(logsOf(it$.endpoint, 'otp_duplicate').at(-1)).toMatchObject({ state: 'in-flight' })
  })
})

describe('retry safety: the same recipient and code are e-mailed once', () => {
  const it$ = withConfig({ rateLimit: ROOMY_LIMIT })

  it('the same event twice: one message, both 200', async () => {
    const code = freshCode()
    const first = await post(it$.endpoint, withCode(code))
    const second = await post(it$.endpoint, withCode(code))
    expect(first.status, first.text).toBe(200)
    expect(second.status, second.text).toBe(200)
    expect(second.json).toEqual(SUCCESS)
    expect(sendgrid.messages).toHaveLength(1)
    expect(sendgrid.requests).toHaveLength(1)
    expect(lastLog(it$.endpoint, 'otp_duplicate')).toMatchObject({
      provider: 'sendgrid',
      state: 'sent',
    })
  })

  it('the address is compared without case: AVERY@EXAMPLE.ORG with the same code is a duplicate', async () => {
    const code = freshCode()
    expect((await post(it$.endpoint, withCode(code))).status).toBe(200)
    const upper = await post(it$.endpoint, withCode(code), (e) => {
      e.data.otpContext.identifier = ADDRESS.toUpperCase()
    })
    expect(upper.status, upper.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
  })

  it('a retry after a failure sends: first 503, then 200 and one message', async () => {
    const code = freshCode()
    sendgrid.fault({ kind: 'status', status: 503 }, { times: 1 })
    const first = await post(it$.endpoint, withCode(code))
    expect(first.status, first.text).toBe(503)
    expect(sendgrid.messages).toHaveLength(0)
    const retry = await post(it$.endpoint, withCode(code))
    expect(retry.status, retry.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
    expect(sendgrid.requests.map((r) => r.status)).toEqual([503, 202])
  })

  it('two concurrent identical posts: one message, both 200', async () => {
    const code = freshCode()
    // A slow accept keeps the first send in flight while the second arrives.
    sendgrid.fault({ kind: 'slow', delayMs: 200 }, { times: 1 })
    const answers = await Promise.all([
      post(it$.endpoint, withCode(code)),
      post(it$.endpoint, withCode(code)),
    ])
    expect(answers.map((res) => res.status)).toEqual([200, 200])
    for (const res of answers) expect(res.json).toEqual(SUCCESS)
    expect(sendgrid.messages).toHaveLength(1)
    expect(sendgrid.requests).toHaveLength(1)
    expect(lastLog(it$.endpoint, 'otp_duplicate')).toMatchObject({ state: 'in-flight' })
  })

  it('a different code to the same address is a second message', async () => {
    const [one, two] = [freshCode(), freshCode()]
    expect((await post(it$.endpoint, withCode(one))).status).toBe(200)
    expect((await post(it$.endpoint, withCode(two))).status).toBe(200)
    expect(sendgrid.messages).toHaveLength(2)
    expect(sendgrid.messages[0]?.text).toContain(one)
    expect(sendgrid.messages[1]?.text).toContain(two)
  })

  it('logs the same recipient digest for every call to one address', () => {
    const digests = new Set(
      it$.endpoint.logs
        .filter((line) => line.fields.recipient !== undefined)
        .map((line) => line.fields.recipient),
    )
    expect(digests.size).toBe(1)
  })
})

describe('the rate limit per recipient', () => {
  const it$ = withConfig({ rateLimit: { maxPerRecipient: 2, windowSeconds: 600 } })

  it('refuses the third code within the window with 429 ERR_RATE_LIMITED; retries are free', async () => {
    const [one, two, three] = [freshCode(), freshCode(), freshCode()]
    expect((await post(it$.endpoint, withCode(one))).status).toBe(200)
    // Entra retrying an already-sent code does not count.
    expect((await post(it$.endpoint, withCode(one))).status).toBe(200)
    expect((await post(it$.endpoint, withCode(two))).status).toBe(200)
    expect(sendgrid.messages).toHaveLength(2)

    const third = await post(it$.endpoint, withCode(three))
    expect(third.status, third.text).toBe(429)
    expect(errorOf(third).code).toBe('ERR_RATE_LIMITED')
    expect(sendgrid.messages).toHaveLength(2)
    expect(sendgrid.requests).toHaveLength(2)
    expect(lastLog(it$.endpoint, 'otp_rate_limited')?.recipient).toMatch(/^[0-9a-f]{16}$/)

    // Still refused when Entra retries the refused code; an already-sent one still answers 200.
    expect((await post(it$.endpoint, withCode(three))).status).toBe(429)
    expect((await post(it$.endpoint, withCode(two))).status).toBe(200)
    expect(sendgrid.requests).toHaveLength(2)
  })

  it('counts per recipient: another address still gets its code', async () => {
    const res = await post(it$.endpoint, withCode(freshCode()), (e) => {
      e.data.otpContext.identifier = 'blake@example.org'
    })
    expect(res.status, res.text).toBe(200)
    expect(sendgrid.messages.map((m) => m.to)).toEqual([['blake@example.org']])
  })

  it('does not count a send that failed: the user got nothing', async () => {
    const casey = (e: ReturnType<typeof fixture>) => {
      e.data.otpContext.identifier = 'casey@example.org'
    }
    const [one, two, three] = [freshCode(), freshCode(), freshCode()]
    sendgrid.fault({ kind: 'status', status: 503 }, { times: 1 })
    expect((await post(it$.endpoint, withCode(one), casey)).status).toBe(503)
    expect((await post(it$.endpoint, withCode(one), casey)).status).toBe(200)
    expect((await post(it$.endpoint, withCode(two), casey)).status).toBe(200)
    expect((await post(it$.endpoint, withCode(three), casey)).status).toBe(429)
    expect(sendgrid.messages).toHaveLength(2)
  })

  it('frees the window after windowSeconds', async () => {
    it$.endpoint.clockOffsetMs += 601_000
    try {
      const res = await post(it$.endpoint, withCode(freshCode()))
      expect(res.status, res.text).toBe(200)
      expect(sendgrid.messages).toHaveLength(1)
    } finally {
      it$.endpoint.clockOffsetMs -= 601_000
    }
  })
})

describe('what the logs hold', () => {
  it('no log line of this file holds a code, the address or the API key', () => {
    const text = JSON.stringify(allLogs)
    expect(allLogs.flat().length).toBeGreaterThan(20)
    expect(codes.size).toBeGreaterThan(20)
    for (const code of codes) expect(text).not.toContain(code)
    expect(text).not.toContain(ADDRESS)
    expect(text.toLowerCase()).not.toContain('avery@')
    expect(text).not.toContain('blake@')
    expect(text).not.toContain(API_KEY)
    expect(text).not.toContain(WRONG_KEY)
    expect(text).not.toContain(API_KEY.slice(3)) // without the "SG." prefix
  })
})
