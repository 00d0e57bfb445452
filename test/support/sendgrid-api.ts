// A stand-in for the SendGrid v3 Mail Send API on loopback (plain http: the product allows http
// for loopback base URLs only). POST /v3/mail/send needs `Authorization: Bearer <the API key>`
// (401 with SendGrid's error body otherwise), checks the JSON the official client (@sendgrid/mail)
// sends the way SendGrid does (400 with `{errors:[{message, field, help}]}`), records the message
// and answers 202 with an empty body and an X-Message-Id. Faults, for the next N requests or
// always: a status with SendGrid's body (400, 401, 403, 413, 429 with the X-RateLimit-* headers and
// Retry-After, 500, 503…), slow, hang, reset.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { heldAnswers } from './held-answers.js'

export const SENDGRID_SEND_PATH = '/v3/mail/send'
export const SENDGRID_SCOPES_PATH = '/v3/scopes'

export interface SendGridErrorItem {
  readonly message: string
  readonly field: string | null
  readonly help: string | null
}

export type SendGridFault =
  /**
   * Answers `status` with SendGrid's error body (`errors` when given, otherwise the usual one
   * for the status). 429 carries X-RateLimit-Limit/Remaining/Reset and Retry-After
   * (retryAfterSeconds, 1 unless given); other statuses carry Retry-After only when given.
   */
  | {
      readonly kind: 'status'
      readonly status: number
      readonly errors?: readonly SendGridErrorItem[]
      readonly retryAfterSeconds?: number
    }
  /** Answers normally (validation, 202) after delayMs. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Never answers; close() ends the connection. */
  | { readonly kind: 'hang' }
  /** Drops the connection without answering. */
  | { readonly kind: 'reset' }

export interface SendGridRequest {
  readonly method: string
  /** Path and query, as requested. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly text: string
  /** The body parsed as JSON; undefined when it is not JSON. */
  readonly json: unknown
  /** The status answered; undefined while pending or when never answered. */
  readonly status: number | undefined
  /** Whether the client closed the connection before an answer. */
  readonly aborted: boolean
}

export interface SendGridMessage {
  /** The API key the message was sent with. */
  readonly apiKey: string
  readonly from: string
  /** Every personalization's `to` addresses, in order. */
  readonly to: readonly string[]
  /** The top-level subject, or the first personalization's. */
  readonly subject: string | undefined
  /** The text/plain content. */
  readonly text: string | undefined
  /** The text/html content. */
  readonly html: string | undefined
  /** X-Message-Id answered. */
  readonly messageId: string
  /** The whole request body. */
  readonly body: Record<string, unknown>
}

export interface SendGridStandIn {
  /** What the client's baseUrl is set to: http://127.0.0.1:<port> (no trailing slash). */
  readonly baseUrl: string
  /** The accepted API key. */
  readonly apiKey: string
  /** Every request, in order, answered or not. */
  readonly requests: SendGridRequest[]
  /** The status of each GET /v3/scopes (the endpoint's start-up check of its key), in order. */
  readonly scopeChecks: number[]
  /** The messages accepted (202), in order. */
  readonly messages: SendGridMessage[]
  /** Faults for the next `times` requests (all from now on unless given); the first set wins. */
  fault(fault: SendGridFault, options?: { readonly times?: number }): void
  clearFaults(): void
  /** Forgets requests, messages and faults. */
  reset(): void
  close(): Promise<void>
}

const DEFAULT_ERRORS: Readonly<Record<number, SendGridErrorItem>> = {
  400: { message: 'Bad Request', field: null, help: null },
  401: {
    message: 'The provided authorization grant is invalid, expired, or revoked',
    field: null,
    help: null,
  },
  403: {
    message:
      'The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements',
    field: 'from',
    help: null,
  },
  413: { message: 'Payload Too Large', field: null, help: null },
  429: { message: 'too many requests', field: null, help: null },
  500: { message: 'internal error', field: null, help: null },
  503: { message: 'service unavailable', field: null, help: null },
}

const HELP = 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html'

class Invalid extends Error {
  readonly field: string | null
  readonly help: string | null
  constructor(message: string, field: string | null, anchor: string | null) {
    super(message)
    this.field = field
    this.help = anchor === null ? null : `${HELP}#${anchor}`
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/

/** SendGrid's own checks on a mail/send body (the ones a client can get wrong); throws Invalid. */
function validate(body: unknown): asserts body is Record<string, unknown> {
  if (!isObject(body)) throw new Invalid('Bad Request', null, null)
  const personalizations = body.personalizations
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    throw new Invalid(
      'The personalizations field is required and must have at least one personalization.',
      'personalizations',
      'personalizations',
    )
  }
  personalizations.forEach((item: unknown, i) => {
    const to = isObject(item) ? item.to : undefined
    if (!Array.isArray(to) || to.length === 0) {
      throw new Invalid(
        'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
        `personalizations.${i}.to`,
        'message.personalizations.to',
      )
    }
    to.forEach((recipient: unknown, j) => {
      const email = isObject(recipient) ? recipient.email : undefined
      if (typeof email !== 'string' || !EMAIL.test(email)) {
        throw new Invalid(
          'Does not contain a valid address.',
          `personalizations.${i}.to.${j}.email`,
          'message.personalizations.to',
        )
      }
    })
  })
  const from = isObject(body.from) ? body.from.email : undefined
  if (typeof from !== 'string' || !EMAIL.test(from)) {
    throw new Invalid(
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
      'from.email',
      'message.from',
    )
  }
  const template = typeof body.template_id === 'string'
  const subjects =
    typeof body.subject === 'string' && body.subject !== ''
      ? true
      : personalizations.every((p: unknown) => isObject(p) && typeof p.subject === 'string')
  if (!subjects && !template) {
    throw new Invalid(
      'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      'subject',
      'message.subject',
    )
  }
  const content = body.content
  if (!template) {
    if (!Array.isArray(content) || content.length === 0) {
      throw new Invalid(
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
        'content',
        'message.content',
      )
    }
    content.forEach((block: unknown, i) => {
      const ok =
        isObject(block) &&
        typeof block.type === 'string' &&
        block.type !== '' &&
        typeof block.value === 'string' &&
        block.value !== ''
      if (!ok) {
        throw new Invalid(
          'The content value must be a string at least one character in length.',
          `content.${i}.value`,
          'message.content.value',
        )
      }
    })
    const types = content.map((block: Record<string, unknown>) => block.type)
    const plain = types.indexOf('text/plain')
    if (plain > 0) {
      throw new Invalid(
        'If present, text/plain content must be first, followed by text/html content, followed by any other content.',
        'content',
        'message.content.type',
      )
    }
  }
}

function contentOf(body: Record<string, unknown>, type: string): string | undefined {
  if (!Array.isArray(body.content)) return undefined
  const block: unknown = body.content.find((b: unknown) => isObject(b) && b.type === type)
  return isObject(block) && typeof block.value === 'string' ? block.value : undefined
}

function messageOf(apiKey: string, body: Record<string, unknown>, messageId: string) {
  const personalizations = Array.isArray(body.personalizations)
    ? (body.personalizations as unknown[]).filter(isObject)
    : []
  const to = personalizations.flatMap((p) =>
    Array.isArray(p.to) ? (p.to as unknown[]).filter(isObject).map((r) => String(r.email)) : [],
  )
  const first = personalizations[0]
  const subject =
    typeof body.subject === 'string'
      ? body.subject
      : typeof first?.subject === 'string'
        ? first.subject
        : undefined
  return {
    apiKey,
    from: isObject(body.from) ? String(body.from.email) : '',
    to,
    subject,
    text: contentOf(body, 'text/plain'),
    html: contentOf(body, 'text/html'),
    messageId,
    body,
  } satisfies SendGridMessage
}

interface Rule {
  readonly fault: SendGridFault
  remaining: number
}

export async function startSendGridApi(
  options: { readonly apiKey?: string } = {},
): Promise<SendGridStandIn> {
  const apiKey = options.apiKey ?? `SG.stand-in.${randomBytes(16).toString('base64url')}`
  const requests: SendGridRequest[] = []
  const scopeChecks: number[] = []
  const messages: SendGridMessage[] = []
  const rules: Rule[] = []
  const held = heldAnswers() // slow or hanging answers: ended by close()

  const sendErrors = (
    res: ServerResponse,
    status: number,
    errors: readonly SendGridErrorItem[],
    headers: Record<string, string> = {},
  ) => {
    const body = JSON.stringify({ errors })
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body)
  }

  const takeFault = (): SendGridFault | undefined => {
    const rule = rules[0]
    if (rule === undefined) return undefined
    rule.remaining -= 1
    if (rule.remaining <= 0) rules.shift()
    return rule.fault
  }

  /** Authentication, validation, recording, 202. */
  const serve = (
    res: ServerResponse,
    method: string,
    path: string,
    auth: string,
    json: unknown,
  ) => {
    if (path !== SENDGRID_SEND_PATH) {
      sendErrors(res, 404, [{ message: 'Not Found', field: null, help: null }])
      return
    }
    if (method !== 'POST') {
      sendErrors(res, 405, [{ message: 'Method Not Allowed', field: null, help: null }])
      return
    }
    const key = /^Bearer (.+)$/.exec(auth)?.[1]
    if (key !== apiKey) {
      const missing = {
        message: 'Permission denied, wrong credentials',
        field: null,
        help: null,
      }
      sendErrors(res, 401, [key === undefined ? missing : (DEFAULT_ERRORS[401] ?? missing)])
      return
    }
    try {
      validate(json)
    } catch (error) {
      if (!(error instanceof Invalid)) throw error
      sendErrors(res, 400, [{ message: error.message, field: error.field, help: error.help }])
      return
    }
    const messageId = randomBytes(16).toString('base64url')
    messages.push(messageOf(key, json, messageId))
    res.writeHead(202, { 'x-message-id': messageId, 'content-length': '0' }).end()
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      // GET /v3/scopes: the endpoint's start-up check of its key. Counted apart from the sends
      // (requests, faults), which the OnOtpSend tests count.
      if ((req.url ?? '').split('?')[0] === SENDGRID_SCOPES_PATH && req.method === 'GET') {
        scopeChecks.push(req.headers.authorization === `Bearer ${apiKey}` ? 200 : 401)
        if (scopeChecks.at(-1) === 200) {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ scopes: ['mail.send'] }))
        } else
          sendErrors(res, 401, [
            DEFAULT_ERRORS[401] ?? { message: 'unauthorized', field: null, help: null },
          ])
        return
      }
      const text = Buffer.concat(chunks).toString('utf8')
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      const record: { -readonly [K in keyof SendGridRequest]: SendGridRequest[K] } = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        text,
        json,
        status: undefined,
        aborted: false,
      }
      requests.push(record)
      res.on('finish', () => (record.status = res.statusCode))
      res.on('close', () => {
        if (!res.writableFinished) record.aborted = true
      })
      const path = (req.url ?? '').split('?')[0] ?? ''
      const go = () => serve(res, req.method ?? '', path, req.headers.authorization ?? '', json)
      const fault = takeFault()
      switch (fault?.kind) {
        case undefined:
          go()
          return
        case 'status': {
          const headers: Record<string, string> = {}
          const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined)
          if (fault.status === 429) {
            headers['x-ratelimit-limit'] = '600'
            headers['x-ratelimit-remaining'] = '0'
            headers['x-ratelimit-reset'] = String(Math.ceil(Date.now() / 1000) + (retryAfter ?? 1))
          }
          if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter)
          const fallback = DEFAULT_ERRORS[fault.status] ?? {
            message: 'error',
            field: null,
            help: null,
          }
          sendErrors(res, fault.status, fault.errors ?? [fallback], headers)
          return
        }
        case 'slow':
          held.later(res, fault.delayMs, () => go())
          return
        case 'hang':
          held.hang(res)
          return
        case 'reset':
          res.socket?.destroy()
          return
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    baseUrl,
    apiKey,
    requests,
    scopeChecks,
    messages,
    fault(fault, faultOptions = {}) {
      rules.push({ fault, remaining: faultOptions.times ?? Infinity })
    },
    clearFaults() {
      rules.length = 0
    },
    reset() {
      rules.length = 0
      requests.length = 0
      messages.length = 0
    },
    close() {
      held.close()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
