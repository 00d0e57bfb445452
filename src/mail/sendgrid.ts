// SendGrid through its official client (@sendgrid/mail over @sendgrid/client). SendGrid answers
// 202 when it has accepted the message: that is "sent" here. SENDGRID_BASE_URL points the client
// elsewhere (tests; EU data residency: https://api.eu.sendgrid.com).
import { Client } from '@sendgrid/client'
import { MailService } from '@sendgrid/mail'
import { failureOfStatus, MailError, withinTime, type Mailer } from './mailer.js'

interface SendGridError {
  readonly code?: number | string
}

export function createSendGridMailer(options: {
  readonly apiKey: string
  readonly baseUrl: string
  readonly timeoutMs: number
}): Mailer {
  const client = new Client()
  client.setApiKey(options.apiKey)
  client.setDefaultRequest('baseUrl', options.baseUrl)
  const service = new MailService()
  service.setClient(client)
  service.setTimeout(options.timeoutMs)
  return {
    provider: 'sendgrid',
    async verify(timeoutMs) {
      try {
        // The key's scopes: a read any valid key may make, whatever its permissions.
        await withinTime(
          client.request({ method: 'GET', url: '/v3/scopes' }),
          new AbortController().signal,
          timeoutMs,
        )
      } catch (err) {
        if (err instanceof MailError) throw err
        const { code } = err as SendGridError
        throw new MailError(
          'unavailable',
          typeof code === 'number'
            ? `SendGrid answered HTTP ${code}`
            : `the connection to SendGrid failed${typeof code === 'string' ? ` (${code})` : ''}`,
          { status: typeof code === 'number' ? code : undefined, cause: err },
        )
      }
    },
    async send(mail, signal, timeoutMs) {
      try {
        await withinTime(
          service.send({
            to: mail.to,
            from:
              mail.fromName === undefined ? mail.from : { email: mail.from, name: mail.fromName },
            subject: mail.subject,
            text: mail.text,
            html: mail.html,
            trackingSettings: { clickTracking: { enable: false }, openTracking: { enable: false } },
          }),
          signal,
          timeoutMs,
        )
      } catch (err) {
        if (err instanceof MailError) throw err
        const { code } = err as SendGridError
        if (typeof code === 'number')
          throw new MailError(failureOfStatus(code), `SendGrid answered HTTP ${code}`, {
            status: code,
            cause: err,
          })
        throw new MailError(
          code === 'ECONNABORTED' ? 'timeout' : 'unavailable',
          `the connection to SendGrid failed${typeof code === 'string' ? ` (${code})` : ''}`,
          { cause: err },
        )
      }
    },
  }
}
