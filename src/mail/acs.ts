// Azure Communication Services Email through @azure/communication-email: a connection string, or
// ACS_ENDPOINT with the Function App's managed identity. ACS answers the send with 202 and a
// long-running operation that takes seconds to reach "Succeeded"; waiting for it would blow any
// sign-in budget, so "sent" here means ACS accepted the message (the 202): from then on delivery
// is ACS's job, and its later outcome is in ACS's logs, not in our answer.
import { abortAfter } from '../outbound/abort-after.js'
import { EmailClient } from '@azure/communication-email'
import { ManagedIdentityCredential } from '@azure/identity'
import { failureOfStatus, MailError, withinTime, type Mailer } from './mailer.js'

interface RestErrorLike {
  readonly statusCode?: number
  readonly code?: string
  readonly name?: string
}

export function createAcsMailer(
  options:
    | { readonly connectionString: string }
    | { readonly endpoint: string; readonly clientId?: string | undefined },
): Mailer {
  // No retries inside the client: its defaults (3 tries, exponential) outlast any sign-in; a
  // failure goes back to Entra, which retries once or falls back to its own e-mail.
  const clientOptions = { retryOptions: { maxRetries: 0 } }
  let client: EmailClient
  let credential: ManagedIdentityCredential | undefined
  if ('connectionString' in options) {
    client = new EmailClient(options.connectionString, clientOptions)
  } else {
    credential =
      options.clientId === undefined
        ? new ManagedIdentityCredential()
        : new ManagedIdentityCredential({ clientId: options.clientId })
    client = new EmailClient(options.endpoint, credential, clientOptions)
  }
  return {
    provider: 'acs',
    ...(credential === undefined
      ? {}
      : {
          async verify(timeoutMs: number) {
            const token = await credential.getToken('https://communication.azure.com/.default', {
              abortSignal: AbortSignal.timeout(timeoutMs),
            })
            if (token === null)
              throw new MailError('unavailable', 'the managed identity gave no token')
          },
        }),
    async send(mail, signal, timeoutMs) {
      // Left to fire after we return: it also ends the status poll that goes on in the background.
      const abort = abortAfter(signal, timeoutMs).signal
      // beginSend POSTs the message, then polls the operation once before it resolves, and
      // rejects when that poll fails even though the POST was accepted: the 202 is what counts.
      let accepted = false
      let onAccepted = () => undefined as void
      const acceptance = new Promise<void>((resolve) => {
        onAccepted = resolve
      })
      const onResponse = (response: { status: number; request: { method: string } }) => {
        if (response.request.method === 'POST' && response.status === 202) {
          accepted = true
          onAccepted() // no need to wait for the status poll that beginSend makes next
        }
      }
      try {
        const sending = client.beginSend(
          {
            senderAddress: mail.from,
            recipients: { to: [{ address: mail.to }] },
            content: { subject: mail.subject, plainText: mail.text, html: mail.html },
            disableUserEngagementTracking: true,
          },
          { abortSignal: abort, onResponse },
        )
        // The poll goes on in the background once we have the 202: its outcome is not ours.
        sending.catch(() => undefined)
        await withinTime(
          Promise.race([acceptance, sending.then(() => undefined)]),
          signal,
          timeoutMs,
        )
      } catch (err) {
        if (accepted) return // handed over; the first status poll is not our business
        if (err instanceof MailError) throw err
        const { statusCode, code, name } = err as RestErrorLike
        if (typeof statusCode === 'number' && statusCode > 0)
          throw new MailError(
            failureOfStatus(statusCode),
            `ACS answered HTTP ${statusCode}${code !== undefined && /^\w{1,64}$/.test(code) ? ` (${code})` : ''}`,
            { status: statusCode, cause: err },
          )
        throw new MailError(
          name === 'AbortError' ? 'timeout' : 'unavailable',
          name === 'AbortError'
            ? `no answer from ACS within ${Math.round(timeoutMs)} ms`
            : 'the connection to ACS failed',
          { cause: err },
        )
      }
    },
  }
}
