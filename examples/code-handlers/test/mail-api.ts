// A SendGrid-shaped mail API on loopback for the OnOtpSend tests (MAIL_PROVIDER=sendgrid with
// SENDGRID_BASE_URL pointing here): records what POST /v3/mail/send receives and answers 202, or
// the status set with failWith().
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface SentMail {
  readonly authorization: string | undefined
  readonly body: {
    readonly from?: { readonly email?: string }
    readonly personalizations?: readonly { readonly to?: readonly { readonly email?: string }[] }[]
    readonly subject?: string
    readonly content?: readonly { readonly type: string; readonly value: string }[]
  }
}

export interface MailApi {
  readonly baseUrl: string
  readonly sent: SentMail[]
  failWith(status: number | undefined): void
  close(): Promise<void>
}

export async function startMailApi(): Promise<MailApi> {
  const sent: SentMail[] = []
  let failure: number | undefined
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v3/mail/send') {
        res.writeHead(404).end()
        return
      }
      if (failure !== undefined) {
        res.writeHead(failure, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ errors: [{ message: 'service unavailable' }] }))
        return
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SentMail['body']
      sent.push({ authorization: req.headers.authorization, body })
      res.writeHead(202).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    sent,
    failWith: (status) => (failure = status),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((err) => (err === undefined ? resolve() : reject(err)))
      }),
  }
}
