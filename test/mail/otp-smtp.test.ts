// OnOtpSend through SMTP, via the real local host, against a loopback SMTP server (STARTTLS with
// the test CA, AUTH, implicit TLS): delivery in the request's language, honest failures within
// the budget, one e-mail per code, and nothing secret in the logs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type TestEndpoint,
  type TestResponse,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { startSmtpServer, type SmtpStandIn } from '../support/smtp-server.js'

const CODE = '48213907' // the fixture's
const ADDRESS = 'avery@example.org'
const PASSWORD = 'sm7p-pa55word'
const BUDGET_MS = 500
const SUCCESS = {
  data: {
    '@odata.type': 'microsoft.graph.OnOtpSendResponseData',
    actions: [{ '@odata.type': 'microsoft.graph.OtpSend.continueWithDefaultBehavior' }],
  },
}

let issuer: TestIssuer
let smtp: SmtpStandIn
let smtps: SmtpStandIn
const endpoints: TestEndpoint[] = []

beforeAll(async () => {
  issuer = await startTestIssuer()
  smtp = await startSmtpServer({ auth: { user: 'mailer', pass: PASSWORD } })
  smtps = await startSmtpServer({ tls: 'implicit' })
})
afterAll(async () => {
  // Nothing any endpoint logged, in any test of this file, holds the code, the address or the
  // SMTP password.
  const logs = JSON.stringify(endpoints.flatMap((endpoint) => endpoint.logs))
  expect(logs).not.toContain(CODE)
  expect(logs).not.toContain(ADDRESS)
  expect(logs).not.toContain('avery@')
  expect(logs).not.toContain(PASSWORD)
  await smtp.close()
  await smtps.close()
  await issuer.close()
})
beforeEach(() => {
  smtp.reset()
})

function withEndpoint(env: () => Record<string, string>): { readonly endpoint: TestEndpoint } {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    holder.endpoint = await startTestEndpoint(issuer, {
      MAIL_PROVIDER: 'smtp',
      MAIL_FROM: 'no-reply@contoso.example',
      REQUEST_BUDGET_MS: String(BUDGET_MS),
      EXTENSION_CONFIG: writeExtensionConfig({
        otpSend: {
          fromName: 'Contoso',
          timeoutMs: 1800,
          rateLimit: { maxPerRecipient: 1000 },
        },
      }),
      ...env(),
    })
    endpoints.push(holder.endpoint)
  })
  afterAll(async () => {
    await holder.endpoint.close()
  })
  return holder
}

let codes = 10_000_000
/** The fixture with a fresh code (each test sends its own message) and optional edits. */
function otpEvent(edit?: (event: ReturnType<typeof fixture>) => void) {
  const event = fixture('otp-send')
  event.data.otpContext.oneTimeCode = String(++codes)
  edit?.(event)
  return event
}
const errorOf = (res: TestResponse) => (res.json as { error: { code: string } }).error.code
const failureLog = (endpoint: TestEndpoint) =>
  endpoint.logs.filter((line) => line.event === 'otp_send_failed').at(-1)?.fields

describe('OnOtpSend over SMTP with STARTTLS and AUTH', () => {
  const it$ = withEndpoint(() => ({ SMTP_URL: smtp.smtpUrl() }))

  it('delivers one e-mail in the request language and answers the contract', async () => {
    const event = otpEvent()
    const res = await it$.endpoint.post('onOtpSend', event)
    expect(res.status, res.text).toBe(200)
    expect(res.json).toEqual(SUCCESS)
    expect(smtp.messages).toHaveLength(1)
    const [message] = smtp.messages
    expect(message?.secure).toBe(true) // upgraded with STARTTLS
    expect(message?.user).toBe('mailer')
    expect(message?.to).toEqual([ADDRESS])
    expect(message?.headers.get('from')?.[0]).toContain('Contoso')
    const code = event.data.otpContext.oneTimeCode as string
    expect(message?.subject).toBe(`Your Contoso Shop code: ${code}`)
    expect(message?.text).toContain(`Hello avery,`)
    expect(message?.text).toContain(code)
    expect(message?.html).toContain(code)
  })

  it('writes in Swedish for sv-se, and in the default language for an unknown locale', async () => {
    await it$.endpoint.post(
      'onOtpSend',
      otpEvent((e) => {
        e.data.authenticationContext.client.locale = 'sv-se'
      }),
    )
    await it$.endpoint.post(
      'onOtpSend',
      otpEvent((e) => {
        e.data.authenticationContext.client.locale = 'pt-br'
      }),
    )
    expect(smtp.messages.map((m) => m.subject?.split(' ').slice(0, 3).join(' '))).toEqual([
      'Din kod för',
      'Your Contoso Shop',
    ])
  })

  it('escapes a hostile app name in the HTML part', async () => {
    await it$.endpoint.post(
      'onOtpSend',
      otpEvent((e) => {
        e.data.authenticationContext.clientServicePrincipal.appDisplayName =
          '<script>alert(1)</script>'
      }),
    )
    const [message] = smtp.messages
    expect(message?.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(message?.html).not.toContain('<script>')
    expect(message?.text).toContain('<script>alert(1)</script>')
  })

  it('sends one e-mail when Entra retries the same code, and logs the duplicate', async () => {
    const event = otpEvent()
    const first = await it$.endpoint.post('onOtpSend', event)
    const retry = await it$.endpoint.post('onOtpSend', event)
    expect([first.status, retry.status]).toEqual([200, 200])
    expect(smtp.messages).toHaveLength(1)
    expect(it$.endpoint.logs.at(-2)?.event).toBe('otp_duplicate')
  })

  it('sends one e-mail for concurrent duplicates, both answered 200', async () => {
    const event = otpEvent()
    const answers = await Promise.all([
      it$.endpoint.post('onOtpSend', event),
      it$.endpoint.post('onOtpSend', event),
      it$.endpoint.post('onOtpSend', event),
    ])
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200])
    expect(smtp.messages).toHaveLength(1)
  })

  it('answers 502 ERR_MAIL_REJECTED when the server refuses the recipient, and lets a retry send', async () => {
    smtp.mode({ kind: 'reject', stage: 'rcpt', code: 550 }, { times: 1 })
    const event = otpEvent()
    const res = await it$.endpoint.post('onOtpSend', event)
    expect(res.status).toBe(502)
    expect(errorOf(res)).toBe('ERR_MAIL_REJECTED')
    expect(failureLog(it$.endpoint)).toMatchObject({
      provider: 'smtp',
      failure: 'rejected',
      providerStatus: 550,
      recipient: expect.stringMatching(/^[0-9a-f]{16}$/),
    })
    // The failed send released its claim: Entra's retry really sends.
    const retry = await it$.endpoint.post('onOtpSend', event)
    expect(retry.status).toBe(200)
    expect(smtp.messages).toHaveLength(1)
  })

  it('answers 503 ERR_MAIL_UNAVAILABLE for a temporary failure after the data', async () => {
    smtp.mode({ kind: 'reject', stage: 'data', code: 451 }, { times: 1 })
    const res = await it$.endpoint.post('onOtpSend', otpEvent())
    expect(res.status).toBe(503)
    expect(errorOf(res)).toBe('ERR_MAIL_UNAVAILABLE')
    expect(failureLog(it$.endpoint)).toMatchObject({ failure: 'unavailable', providerStatus: 451 })
  })

  it('delivers through a fresh connection when a pooled one drops once', async () => {
    smtp.mode({ kind: 'drop', stage: 'mail' }, { times: 1 })
    const res = await it$.endpoint.post('onOtpSend', otpEvent())
    expect(res.status).toBe(200)
    expect(smtp.messages).toHaveLength(1)
  })

  it('answers a non-2xx within the budget when every connection drops', async () => {
    smtp.mode({ kind: 'drop', stage: 'mail' })
    try {
      const started = performance.now()
      const res = await it$.endpoint.post('onOtpSend', otpEvent())
      expect(performance.now() - started).toBeLessThan(BUDGET_MS + 250)
      expect([503, 504]).toContain(res.status)
      expect(smtp.messages).toHaveLength(0)
    } finally {
      smtp.mode({ kind: 'accept' })
    }
  })

  it('answers 504 ERR_MAIL_TIMEOUT within the budget when the server stalls', async () => {
    smtp.mode({ kind: 'stall', stage: 'data' }, { times: 1 })
    const started = performance.now()
    const res = await it$.endpoint.post('onOtpSend', otpEvent())
    expect(performance.now() - started).toBeLessThan(BUDGET_MS + 250)
    expect(res.status).toBe(504)
    expect(errorOf(res)).toBe('ERR_MAIL_TIMEOUT')
  })

  it('accepts the code field spelled onetimecode', async () => {
    const event = otpEvent((e) => {
      e.data.otpContext = { identifier: ADDRESS, onetimecode: '99887766' }
    })
    const res = await it$.endpoint.post('onOtpSend', event)
    expect(res.status).toBe(200)
    expect(smtp.messages[0]?.text).toContain('99887766')
  })
})

describe('OnOtpSend over SMTP with implicit TLS (smtps://)', () => {
  const it$ = withEndpoint(() => ({ SMTP_URL: smtps.url }))

  it('delivers over TLS from the first byte', async () => {
    smtps.reset()
    const res = await it$.endpoint.post('onOtpSend', otpEvent())
    expect(res.status).toBe(200)
    expect(smtps.messages).toHaveLength(1)
    expect(smtps.messages[0]?.secure).toBe(true)
  })
})
