// OnOtpSend: the app's own mail through the configured provider (a SendGrid-shaped API on
// loopback), and ctx.fail() (503) when there is none or it fails. The code and the address never
// reach the log.
import { invoke, sampleEvent } from 'entra-auth-extension/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEvents } from '../src/events.js'
import { keptLines } from './log-lines.js'
import { startMailApi, type MailApi } from './mail-api.js'

const CODE = '48213907'
const EMAIL = 'avery@example.org'
const API_KEY = 'SG.example-test-key'

let mailApi: MailApi
beforeAll(async () => {
  mailApi = await startMailApi()
})
afterAll(async () => {
  await mailApi.close()
})

const withProvider = () => ({
  env: {
    MAIL_PROVIDER: 'sendgrid',
    MAIL_FROM: 'no-reply@contoso.example',
    SENDGRID_API_KEY: API_KEY,
    SENDGRID_BASE_URL: mailApi.baseUrl,
  },
})
const unavailable = {
  status: 503,
  body: { error: { code: 'ERR_MAIL_UNAVAILABLE', message: 'the one-time code was not delivered' } },
}

describe('OnOtpSend', () => {
  const lines: string[] = []
  const events = createEvents({ roles: {}, log: keptLines(lines) })

  it('mails the code with the app’s template, in the user’s language', async () => {
    const body = sampleEvent('onOtpSend', {
      data: { authenticationContext: { client: { locale: 'sv-se' } } },
    })
    const res = await invoke(events, 'onOtpSend', body, withProvider())
    expect(res.status).toBe(200)
    expect(mailApi.sent).toHaveLength(1)
    const [mail] = mailApi.sent
    expect(mail?.authorization).toBe(`Bearer ${API_KEY}`)
    expect(mail?.body.from?.email).toBe('no-reply@contoso.example')
    expect(mail?.body.personalizations?.[0]?.to?.[0]?.email).toBe(EMAIL)
    expect(mail?.body.subject).toBe(`Din kod till Contoso: ${CODE}`)
    expect(mail?.body.content?.find((part) => part.type === 'text/html')?.value).toContain(
      `<strong>${CODE}</strong>`,
    )
  })

  it('fails with 503 when the provider fails, so that Entra can send its own mail', async () => {
    mailApi.failWith(503)
    try {
      expect(await invoke(events, 'onOtpSend', sampleEvent('onOtpSend'), withProvider())).toEqual(
        unavailable,
      )
    } finally {
      mailApi.failWith(undefined)
    }
  })

  it('fails with 503 without a mail provider', async () => {
    expect(await invoke(events, 'onOtpSend', sampleEvent('onOtpSend'))).toEqual(unavailable)
  })

  it('never logs the code or the address', () => {
    expect(lines.join('\n')).toContain('otp_not_sent')
    expect(lines.join('\n')).not.toContain(CODE)
    expect(lines.join('\n')).not.toContain(EMAIL)
  })
})
