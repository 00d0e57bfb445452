// A handler written apart from its registration (HandlerOf) that sends its own OTP mail through
// ctx.mailer, from ctx.sender: what the example project (examples/code-handlers) does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authenticationEvents, type HandlerOf } from '../../functions/index.js'
import { invoke, sampleEvent } from '../../src/testing/index.js'
import { startSendGridApi, type SendGridStandIn } from '../support/sendgrid-api.js'

const devEnv = { PATH: process.env.PATH ?? '' }

const sendOwnMail: HandlerOf<'onOtpSend'> = async (event, ctx) => {
  if (ctx.mailer === undefined || ctx.sender === undefined) return ctx.fail('no mail provider')
  await ctx.mailer.send(
    { to: event.email, ...ctx.sender, subject: 'Your code', text: event.code, html: event.code },
    ctx.signal,
    ctx.remainingMs(),
  )
  return ctx.continue()
}

let sendgrid: SendGridStandIn
beforeAll(async () => {
  sendgrid = await startSendGridApi()
})
afterAll(async () => {
  await sendgrid.close()
})

describe('ctx.mailer and ctx.sender (OnOtpSend)', () => {
  it('are the configured provider and MAIL_FROM, so a handler can send its own template', async () => {
    const events = authenticationEvents({ env: devEnv }).onOtpSend(sendOwnMail)
    const res = await invoke(events, 'onOtpSend', sampleEvent('onOtpSend'), {
      env: {
        MAIL_PROVIDER: 'sendgrid',
        MAIL_FROM: 'no-reply@example.org',
        SENDGRID_API_KEY: sendgrid.apiKey,
        SENDGRID_BASE_URL: sendgrid.baseUrl,
      },
    })
    expect(res.status).toBe(200)
    expect(sendgrid.messages).toMatchObject([
      {
        from: 'no-reply@example.org',
        to: ['avery@example.org'],
        subject: 'Your code',
        text: '48213907',
      },
    ])
  })

  it('are undefined without a provider', async () => {
    const events = authenticationEvents({ env: devEnv }).onOtpSend(sendOwnMail)
    const res = await invoke(events, 'onOtpSend', sampleEvent('onOtpSend'))
    expect(res).toEqual({
      status: 503,
      body: {
        error: { code: 'ERR_MAIL_UNAVAILABLE', message: 'the one-time code was not delivered' },
      },
    })
  })
})
