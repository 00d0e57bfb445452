// The mail stand-ins (SMTP, SendGrid, ACS Email, Azurite's Table service), driven by the real
// clients the product uses: nodemailer, @sendgrid/mail + @sendgrid/client, EmailClient from
// @azure/communication-email, TableClient from @azure/data-tables. Besides proving the stand-ins,
// these pin down how each client reports failures, retries and can be bounded in time.
import { EmailClient, type EmailMessage } from '@azure/communication-email'
import { TableClient } from '@azure/data-tables'
import { Client } from '@sendgrid/client'
import { MailService } from '@sendgrid/mail'
import nodemailer from 'nodemailer'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startAcsEmailApi, type AcsEmailStandIn } from './support/acs-email-api.js'
import { startAzurite, type Azurite } from './support/azurite.js'
import { startSendGridApi, type SendGridStandIn } from './support/sendgrid-api.js'
import { startSmtpServer, type SmtpStandIn } from './support/smtp-server.js'

type DefaultRequest = Parameters<Client['setDefaultRequest']>[0]

const FROM = 'Contoso <no-reply@contoso.example>'
const TO = 'ada@example.com'
const CODE = '482913'

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a rejection')
}

async function timed<T>(promise: Promise<T>): Promise<[T, number]> {
  const start = performance.now()
  const value = await promise
  return [value, performance.now() - start]
}

describe('SMTP stand-in with nodemailer', () => {
  const USER = 'mailer@contoso.example'
  const PASS = 'p@ss word:1'
  let smtp: SmtpStandIn

  beforeAll(async () => {
    smtp = await startSmtpServer({ auth: { user: USER, pass: PASS } })
  })
  afterAll(() => smtp.close())
  afterEach(() => smtp.reset())

  const transport = (more: object = {}) =>
    nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: false,
      requireTLS: true,
      auth: { user: USER, pass: PASS },
      ...more,
    })
  const mail = {
    from: FROM,
    to: TO,
    subject: `Votre code : ${CODE} ✓`,
    text: `Your code is ${CODE} — été.\n${'x'.repeat(90)}`,
    html: `<p>Your code is <b>${CODE}</b> — été.</p>`,
  }

  it('delivers over STARTTLS (trusting the test CA) with AUTH, and records the message', async () => {
    const info = await transport().sendMail(mail)
    expect(info.response).toBe('250 OK: queued')
    expect(smtp.messages).toHaveLength(1)
    const [message] = smtp.messages
    expect(message).toMatchObject({
      from: 'no-reply@contoso.example',
      to: [TO],
      user: USER,
      secure: true,
      subject: mail.subject,
      html: mail.html,
    })
    // Quoted-printable, soft line breaks and UTF-8 decoded; nodemailer writes CRLF line ends.
    expect(message?.text).toBe(mail.text.replace('\n', '\r\n'))
    expect(message?.raw).toMatch(/^Content-Type: multipart\/alternative/m)
    expect(message?.headers.get('subject')?.[0]).toMatch(/^=\?UTF-8\?Q\?/)
    expect(smtp.counts).toEqual({ connections: 1, authenticated: 1, bodies: 1 })
  })

  it('takes the credentials from smtpUrl(), and refuses AUTH before STARTTLS', async () => {
    const url = smtp.smtpUrl({ query: { requireTLS: 'true' } })
    expect(url).toBe(
      `smtp://${encodeURIComponent(USER)}:${encodeURIComponent(PASS)}@127.0.0.1:${smtp.port}?requireTLS=true`,
    )
    await nodemailer.createTransport(url).sendMail(mail)
    expect(smtp.messages[0]?.user).toBe(USER)

    const clear = await rejection(transport({ requireTLS: false, ignoreTLS: true }).sendMail(mail))
    expect(clear).toMatchObject({ code: 'EAUTH', responseCode: 538 })
    const wrong = await rejection(transport({ auth: { user: USER, pass: 'nope' } }).sendMail(mail))
    expect(wrong).toMatchObject({
      code: 'EAUTH',
      responseCode: 535,
      command: 'AUTH PLAIN',
      permanent: true,
    })
    const none = await rejection(transport({ auth: undefined }).sendMail(mail))
    expect(none).toMatchObject({ code: 'EENVELOPE', responseCode: 530, command: 'MAIL FROM' })
  })

  it('serves implicit TLS (smtps), and plain text with no STARTTLS at all', async () => {
    const smtps = await startSmtpServer({ tls: 'implicit' })
    const plain = await startSmtpServer({ tls: 'none' })
    try {
      expect(smtps.url).toBe(`smtps://127.0.0.1:${smtps.port}`)
      await nodemailer.createTransport(smtps.url).sendMail(mail)
      expect(smtps.messages[0]?.secure).toBe(true)

      const refused = await rejection(
        nodemailer
          .createTransport({ host: plain.host, port: plain.port, requireTLS: true })
          .sendMail(mail),
      )
      expect(refused).toMatchObject({ code: 'ETLS', command: 'STARTTLS' })
      await nodemailer.createTransport(plain.url).sendMail(mail)
      expect(plain.messages[0]?.secure).toBe(false)
    } finally {
      await smtps.close()
      await plain.close()
    }
  })

  it('rejects with the reply code asked for, which nodemailer reports by stage', async () => {
    const cases = [
      [
        { stage: 'rcpt', code: 550 },
        { code: 'EENVELOPE', command: 'RCPT TO', permanent: true },
      ],
      [
        { stage: 'rcpt', code: 451 },
        { code: 'EENVELOPE', command: 'RCPT TO', permanent: false },
      ],
      [
        { stage: 'mail', code: 550 },
        { code: 'EENVELOPE', command: 'MAIL FROM', permanent: true },
      ],
      [
        { stage: 'data', code: 554 },
        { code: 'EMESSAGE', command: 'DATA', permanent: true },
      ],
      [
        { stage: 'data', code: 451 },
        { code: 'EMESSAGE', command: 'DATA', permanent: false },
      ],
      [
        { stage: 'connect', code: 421 },
        { code: 'EPROTOCOL', command: 'CONN', permanent: false },
      ],
    ] as const
    for (const [reject, expected] of cases) {
      smtp.mode({ kind: 'reject', ...reject })
      const error = await rejection(transport().sendMail(mail))
      expect(error, `${reject.stage} ${reject.code}`).toMatchObject({
        ...expected,
        responseCode: reject.code,
      })
    }
    expect(smtp.messages).toHaveLength(0)
  })

  it('applies a mode `times` times, then accepts again', async () => {
    smtp.mode({ kind: 'reject', stage: 'rcpt', code: 451 }, { times: 1 })
    expect(await rejection(transport().sendMail(mail))).toMatchObject({ responseCode: 451 })
    await transport().sendMail(mail)
    expect(smtp.messages).toHaveLength(1)
  })

  it('drops the connection: ECONNECTION, even after the whole body arrived', async () => {
    smtp.mode({ kind: 'drop', stage: 'data' })
    const error = await rejection(transport().sendMail(mail))
    expect(error).toMatchObject({ code: 'ECONNECTION', message: 'Connection closed unexpectedly' })
    expect(smtp.counts.bodies).toBe(1) // the server had it all: the client cannot know
    expect(smtp.messages).toHaveLength(0)
  })

  it('stalls: greetingTimeout bounds a silent server, socketTimeout a silent reply', async () => {
    const bounded = { connectionTimeout: 2000, greetingTimeout: 300, socketTimeout: 400 }
    smtp.mode({ kind: 'stall', stage: 'connect' })
    const [greeting, greetingMs] = await timed(rejection(transport(bounded).sendMail(mail)))
    expect(greeting).toMatchObject({ code: 'ETIMEDOUT', message: 'Greeting never received' })
    expect(greetingMs).toBeGreaterThanOrEqual(250)
    expect(greetingMs).toBeLessThan(1500)

    smtp.mode({ kind: 'stall', stage: 'data' })
    const [reply, replyMs] = await timed(rejection(transport(bounded).sendMail(mail)))
    expect(reply).toMatchObject({ code: 'ETIMEDOUT', message: 'Timeout' })
    expect(replyMs).toBeGreaterThanOrEqual(350)
    expect(replyMs).toBeLessThan(2000)
    expect(smtp.counts.bodies).toBe(1)
  })

  it('stalls: an AbortSignal ends a send at any stage (nodemailer ≥ 10.5)', async () => {
    smtp.mode({ kind: 'stall', stage: 'rcpt' })
    const [error, ms] = await timed(
      rejection(transport().sendMail({ ...mail, signal: AbortSignal.timeout(300) })),
    )
    expect(error).toMatchObject({ name: 'AbortError', code: 'EABORT' })
    expect(ms).toBeLessThan(1500)
  })
})

describe('SendGrid stand-in with @sendgrid/mail', () => {
  let sendgrid: SendGridStandIn

  beforeAll(async () => {
    sendgrid = await startSendGridApi()
  })
  afterAll(() => sendgrid.close())
  afterEach(() => sendgrid.reset())

  /**
   * A client of its own: setApiKey() resets baseUrl to api.sendgrid.com, so it comes first. Any
   * other axios option (signal here) goes into the client's default request, which the typings
   * do not declare; MailService.setTimeout(ms) is the one typed way to set axios `timeout`.
   */
  const mailer = (apiKey = sendgrid.apiKey, signal?: AbortSignal) => {
    const client = new Client()
    client.setApiKey(apiKey)
    client.setDefaultRequest('baseUrl', sendgrid.baseUrl)
    if (signal !== undefined) client.setDefaultRequest({ signal } as unknown as DefaultRequest)
    const service = new MailService()
    service.setClient(client)
    return service
  }
  const mail = {
    to: TO,
    from: { email: 'no-reply@contoso.example', name: 'Contoso' },
    subject: 'Your code',
    text: `Your code is ${CODE}`,
    html: `<p>Your code is <b>${CODE}</b></p>`,
  }

  it('accepts a send: 202 with an empty body, and records it', async () => {
    const [response] = await mailer().send(mail)
    expect(response.statusCode).toBe(202)
    expect(response.body).toBe('')
    expect(sendgrid.messages).toEqual([
      expect.objectContaining({
        apiKey: sendgrid.apiKey,
        from: 'no-reply@contoso.example',
        to: [TO],
        subject: 'Your code',
        text: mail.text,
        html: mail.html,
      }),
    ])
    expect(sendgrid.requests[0]?.headers.authorization).toBe(`Bearer ${sendgrid.apiKey}`)
  })

  it('reports an error status as ResponseError: code = status, response.body = SendGrid errors', async () => {
    const invalid = await rejection(mailer().send({ ...mail, to: 'not-an-address' }))
    expect(invalid).toMatchObject({
      code: 400,
      message: 'Bad Request', // the HTTP reason phrase, not SendGrid's message
      response: {
        body: { errors: [{ field: 'personalizations.0.to.0.email' }] },
      },
    })
    const unauthorized = await rejection(mailer('SG.wrong-key').send(mail))
    expect(unauthorized).toMatchObject({ code: 401, message: 'Unauthorized' })
    sendgrid.fault({ kind: 'status', status: 403 }, { times: 1 })
    expect(await rejection(mailer().send(mail))).toMatchObject({
      code: 403,
      response: { body: { errors: [{ field: 'from' }] } },
    })
  })

  it('does not retry: a 429 (with Retry-After and X-RateLimit-*) or a 503 surfaces at once', async () => {
    sendgrid.fault({ kind: 'status', status: 429, retryAfterSeconds: 7 }, { times: 1 })
    const limited = await rejection(mailer().send(mail))
    expect(limited).toMatchObject({ code: 429, message: 'Too Many Requests' })
    const headers = (limited as { response: { headers: Record<string, string> } }).response.headers
    expect(headers['retry-after']).toBe('7')
    expect(headers['x-ratelimit-remaining']).toBe('0')
    sendgrid.fault({ kind: 'status', status: 503 }, { times: 1 })
    expect(await rejection(mailer().send(mail))).toMatchObject({ code: 503 })
    expect(sendgrid.requests).toHaveLength(2)
  })

  it('bounds a hanging API with the axios timeout or an AbortSignal (per client)', async () => {
    sendgrid.fault({ kind: 'hang' }, { times: 1 })
    const service = mailer()
    service.setTimeout(300) // axios `timeout`: the socket's idle time, not a whole deadline
    const [timedOut, ms] = await timed(rejection(service.send(mail)))
    expect(timedOut).toMatchObject({
      name: 'AxiosError',
      code: 'ECONNABORTED',
      message: 'timeout of 300ms exceeded',
    })
    expect(ms).toBeLessThan(1500)

    sendgrid.fault({ kind: 'hang' }, { times: 1 })
    const aborted = await rejection(mailer(undefined, AbortSignal.timeout(300)).send(mail))
    expect(aborted).toMatchObject({ name: 'CanceledError', code: 'ERR_CANCELED' })
  })

  it('reports a reset as a plain AxiosError with the socket code', async () => {
    sendgrid.fault({ kind: 'reset' }, { times: 1 })
    expect(await rejection(mailer().send(mail))).toMatchObject({ code: 'ECONNRESET' })
  })
})

describe('ACS Email stand-in with EmailClient', () => {
  let acs: AcsEmailStandIn

  beforeAll(async () => {
    acs = await startAcsEmailApi()
  })
  afterAll(() => acs.close())
  afterEach(() => acs.reset())

  const message: EmailMessage = {
    senderAddress: 'DoNotReply@contoso.example',
    recipients: { to: [{ address: TO, displayName: 'Ada' }] },
    content: {
      subject: 'Your code',
      plainText: `Your code is ${CODE}`,
      html: `<p>Your code is <b>${CODE}</b></p>`,
    },
  }
  const noRetries = () => new EmailClient(acs.connectionString, { retryOptions: { maxRetries: 0 } })
  const summary = () => acs.requests.map((r) => `${r.method} ${r.url.split('?')[0]} ${r.status}`)

  it('beginSend POSTs, then polls once before it resolves', async () => {
    const poller = await new EmailClient(acs.connectionString).beginSend(message)
    const [sent] = acs.messages
    expect(sent).toMatchObject({
      senderAddress: message.senderAddress,
      to: [TO],
      subject: 'Your code',
      plainText: message.content.plainText,
      html: message.content.html,
      apiVersion: '2025-09-01',
      clientOperationId: false,
    })
    const id = sent?.operationId ?? ''
    expect(summary()).toEqual(['POST /emails:send 202', `GET /emails/operations/${id} 200`])
    expect(acs.requests.every((r) => r.signatureValid === true)).toBe(true)
    expect(poller.isDone()).toBe(true)
    expect(poller.getOperationState()).toMatchObject({
      status: 'succeeded',
      result: { id, status: 'Succeeded' },
    })
  })

  it('uses a client-chosen operationId, and onResponse sees the 202 as it comes', async () => {
    const operationId = '0b9a2f3e-4c8e-4f5c-9d1e-2a3b4c5d6e7f'
    const statuses: number[] = []
    acs.outcome({ status: 'Running' })
    const poller = await noRetries().beginSend(message, {
      operationId,
      onResponse: (raw) => statuses.push(raw.status),
    })
    expect(statuses).toEqual([202, 200])
    expect(acs.messages[0]).toMatchObject({ operationId, clientOperationId: true })
    expect(acs.requests[0]?.headers['operation-id']).toBe(operationId)
    expect(poller.isDone()).toBe(false)
    expect(poller.getOperationState().status).toBe('running')
  })

  it('rejects beginSend when the first poll says Failed (a plain Error)', async () => {
    acs.outcome({ status: 'Failed', error: { code: 'Failed', message: 'Mailbox full' } })
    const error = await rejection(noRetries().beginSend(message))
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toBe(
      'The long-running operation has failed. Failed. Mailbox full',
    )
    expect(acs.messages).toHaveLength(1)
  })

  it('rejects beginSend when the first poll fails, though the send was accepted', async () => {
    acs.fault({ kind: 'status', status: 500 }, { on: 'poll', times: 1 })
    const error = await rejection(noRetries().beginSend(message))
    expect(error).toMatchObject({ name: 'RestError', statusCode: 500 })
    expect(acs.messages).toHaveLength(1)
  })

  it('refuses a bad signature with 401 Denied', async () => {
    const other = Buffer.alloc(32, 7).toString('base64')
    const client = new EmailClient(acs.connectionString.replace(acs.accessKey, other))
    const error = await rejection(client.beginSend(message))
    expect(error).toMatchObject({ name: 'RestError', statusCode: 401, code: 'Denied' })
    expect(acs.requests[0]?.signatureValid).toBe(false)
  })

  it('reports 400 as RestError with the ACS code', async () => {
    const invalid = { ...message, content: { subject: '', plainText: 'x' } }
    const error = await rejection(noRetries().beginSend(invalid))
    expect(error).toMatchObject({ name: 'RestError', statusCode: 400, code: 'BadRequest' })
  })

  it('retries 429 with Retry-After by default (3 retries); retryOptions.maxRetries 0 stops it', async () => {
    acs.fault({ kind: 'status', status: 429, retryAfterSeconds: 0 }, { times: 2 })
    const poller = await new EmailClient(acs.connectionString).beginSend(message)
    expect(poller.getOperationState().status).toBe('succeeded')
    expect(acs.hits('send')).toBe(3)

    acs.reset()
    acs.fault({ kind: 'status', status: 429, retryAfterSeconds: 0 })
    const limited = await rejection(new EmailClient(acs.connectionString).beginSend(message))
    expect(limited).toMatchObject({ name: 'RestError', statusCode: 429, code: 'TooManyRequests' })
    expect(acs.hits('send')).toBe(4)

    acs.reset()
    acs.fault({ kind: 'status', status: 429 })
    expect(await rejection(noRetries().beginSend(message))).toMatchObject({ statusCode: 429 })
    expect(acs.hits('send')).toBe(1)

    acs.reset() // no Retry-After: the throttling strategy does not apply, nor the exponential one
    acs.fault({ kind: 'status', status: 429, retryAfterSeconds: null })
    await rejection(new EmailClient(acs.connectionString).beginSend(message))
    expect(acs.hits('send')).toBe(1)
  })

  it('retries 500 with exponential back-off; retryOptions bounds it', async () => {
    acs.fault({ kind: 'status', status: 500 })
    const client = new EmailClient(acs.connectionString, {
      retryOptions: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 10 },
    })
    expect(await rejection(client.beginSend(message))).toMatchObject({
      name: 'RestError',
      statusCode: 500,
      code: 'InternalServerError',
    })
    expect(acs.hits('send')).toBe(2)
    acs.reset()
    acs.fault({ kind: 'status', status: 500 })
    await rejection(noRetries().beginSend(message))
    expect(acs.hits('send')).toBe(1)
  })

  it('ends a hanging send on abortSignal, or on requestOptions.timeout (an AbortError, not retried)', async () => {
    acs.fault({ kind: 'hang' })
    const client = new EmailClient(acs.connectionString) // default retries
    const [aborted, ms] = await timed(
      rejection(client.beginSend(message, { abortSignal: AbortSignal.timeout(300) })),
    )
    expect(aborted).toMatchObject({ name: 'AbortError' })
    expect(ms).toBeLessThan(1500)
    const timedOut = await rejection(
      client.beginSend(message, { requestOptions: { timeout: 300 } }),
    )
    expect(timedOut).toMatchObject({ name: 'AbortError' })
    expect(acs.hits('send')).toBe(2)

    acs.reset() // the signal covers the poll that beginSend makes, too
    acs.fault({ kind: 'hang' }, { on: 'poll' })
    const poll = await rejection(
      client.beginSend(message, { abortSignal: AbortSignal.timeout(300) }),
    )
    expect(poll).toMatchObject({ name: 'AbortError' })
    expect(acs.messages).toHaveLength(1)
  })
})

describe('Azurite Table service with TableClient', () => {
  let azurite: Azurite

  beforeAll(async () => {
    azurite = await startAzurite()
    console.info(`Azurite (table) started in ${azurite.startupMs} ms`)
  })
  afterAll(() => azurite?.stop())

  it('answers 409 EntityAlreadyExists to a second insert of the same keys', async () => {
    expect(azurite.tableEndpoint).toBe(`http://127.0.0.1:${azurite.port}/devstoreaccount1`)
    const table = TableClient.fromConnectionString(azurite.connectionString, 'otpdedupe', {
      allowInsecureConnection: true,
    })
    await table.createTable()
    await table.createTable() // already there: no error
    const expiresAt = new Date(Date.now() + 10 * 60_000)
    await table.createEntity({ partitionKey: 'ada', rowKey: CODE, expiresAt })

    const duplicate = await rejection(table.createEntity({ partitionKey: 'ada', rowKey: CODE }))
    expect(duplicate).toMatchObject({
      name: 'RestError',
      statusCode: 409,
      details: { errorCode: 'EntityAlreadyExists' },
    })

    const entity = await table.getEntity<{ expiresAt: Date }>('ada', CODE)
    expect(entity.expiresAt).toBeInstanceOf(Date)
    expect(entity.expiresAt.toISOString()).toBe(expiresAt.toISOString())
    expect(typeof entity.timestamp).toBe('string')

    await table.deleteEntity('ada', CODE)
    await table.createEntity({ partitionKey: 'ada', rowKey: CODE }) // free again
    expect(await rejection(table.getEntity('ada', 'nobody'))).toMatchObject({ statusCode: 404 })
  })
})
