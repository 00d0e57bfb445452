// An HTTPS stand-in for Azure Communication Services Email on loopback (the test CA's certificate:
// see test-ca.ts), for EmailClient from @azure/communication-email with a connection string
// `endpoint=https://127.0.0.1:<port>/;accesskey=<base64>`.
//   POST /emails:send?api-version=…              → 202, operation-location, {id, status: 'Running'}
//   GET  /emails/operations/{id}?api-version=…   → 200 {id, status} (Succeeded unless told)
// Every request must carry the HMAC-SHA256 signature the SDK computes from the access key
// (x-ms-date, x-ms-content-sha256, Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;
// x-ms-content-sha256&Signature=…): 401 {error:{code:'Denied',…}} otherwise. Faults, for the next
// N sends (or polls) or always: a status with ACS's error body (400, 401, 403, 429 with
// Retry-After, 500, 503…), slow, hang, reset. The operations' outcome is configurable: Succeeded,
// Running forever, Failed with an error, after a number of Running polls.
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { testTls } from './test-ca.js'
import { heldAnswers } from './held-answers.js'

/** The api-version @azure/communication-email 1.1.0 sends. */
export const ACS_EMAIL_API_VERSION = '2025-09-01'
/** Requests signed further than this from the stand-in's clock are refused, as ACS does. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000

export interface AcsError {
  readonly code: string
  readonly message: string
}

export type AcsFault =
  /**
   * Answers `status` with ACS's error body ({error:{code, message}}; the code and message
   * default by status), and x-ms-error-code. Retry-After is sent when retryAfterSeconds is given,
   * and for 429 unless it is null (1 when not given).
   */
  | {
      readonly kind: 'status'
      readonly status: number
      readonly code?: string
      readonly message?: string
      readonly retryAfterSeconds?: number | null
    }
  /** Answers normally after delayMs. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Never answers; close() ends the connection. */
  | { readonly kind: 'hang' }
  /** Drops the connection without answering. */
  | { readonly kind: 'reset' }

export interface AcsFaultOptions {
  /** Which requests: the sends (POST) unless given. */
  readonly on?: 'send' | 'poll'
  /** How many of them: all from now on unless given. */
  readonly times?: number
}

/** What GET /emails/operations/{id} says once the Running polls are used up. */
export type AcsOutcome =
  | { readonly status: 'Succeeded' }
  /** Running forever. */
  | { readonly status: 'Running' }
  | { readonly status: 'Failed'; readonly error: AcsError }
  | { readonly status: 'Canceled' }

export interface AcsRequest {
  readonly method: string
  /** Path and query, as requested. */
  readonly url: string
  readonly kind: 'send' | 'poll' | 'other'
  readonly headers: IncomingHttpHeaders
  readonly text: string
  readonly json: unknown
  /** Whether the HMAC signature checked out (undefined when not checked: a fault came first). */
  readonly signatureValid: boolean | undefined
  /** The status answered; undefined while pending, or when never answered. */
  readonly status: number | undefined
  /** Whether the client closed the connection before an answer. */
  readonly aborted: boolean
}

export interface AcsMessage {
  /** The operation id: the client's Operation-Id header when it sent one, a fresh UUID if not. */
  readonly operationId: string
  /** Whether the client chose the operation id (Operation-Id header). */
  readonly clientOperationId: boolean
  readonly senderAddress: string
  readonly to: readonly string[]
  readonly subject: string
  readonly plainText: string | undefined
  readonly html: string | undefined
  /** The whole request body. */
  readonly body: Record<string, unknown>
  readonly apiVersion: string
}

export interface AcsEmailOptions {
  /** The base64 access key (32 random bytes unless given). */
  readonly accessKey?: string
  /**
   * Retry-After (seconds) on the 202 and on Running polls, as ACS documents it; the SDK's poller
   * then waits that long between polls in pollUntilDone. Not sent unless given.
   */
  readonly pollRetryAfterSeconds?: number
}

export interface AcsEmailStandIn {
  /** https://127.0.0.1:<port> */
  readonly origin: string
  /** The base64 access key. */
  readonly accessKey: string
  /** endpoint=https://127.0.0.1:<port>/;accesskey=<accessKey> */
  readonly connectionString: string
  /** Every request, in order, answered or not. */
  readonly requests: AcsRequest[]
  /** The sends accepted (202), in order. */
  readonly messages: AcsMessage[]
  /** How many requests of a kind arrived. */
  hits(kind: 'send' | 'poll'): number
  fault(fault: AcsFault, options?: AcsFaultOptions): void
  clearFaults(): void
  /** What the operations of the following sends report, after `runningPolls` Running answers. */
  outcome(outcome: AcsOutcome, options?: { readonly runningPolls?: number }): void
  /** Forgets requests, messages, operations and faults; outcome back to Succeeded. */
  reset(): void
  close(): Promise<void>
}

const DEFAULT_ERRORS: Readonly<Record<number, AcsError>> = {
  400: { code: 'BadRequest', message: 'The request is invalid.' },
  401: { code: 'Denied', message: 'Denied by the resource provider.' },
  403: { code: 'Forbidden', message: 'The request is forbidden.' },
  404: { code: 'NotFound', message: 'The requested resource was not found.' },
  429: {
    code: 'TooManyRequests',
    message: 'The request was throttled. Please try again later.',
  },
  500: { code: 'InternalServerError', message: 'An internal server error occurred.' },
  503: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' },
}

class AcsHttpError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * Checks the signature as ACS does: HMAC-SHA256, with the decoded access key, over
 * `VERB\n<path>?<query>\n<x-ms-date>;<host>;<x-ms-content-sha256>`, and the content hash
 * against the body. Returns why it fails, or undefined.
 */
function signatureProblem(req: IncomingMessage, body: Buffer, key: Buffer): string | undefined {
  const date = req.headers['x-ms-date']
  const contentHash = req.headers['x-ms-content-sha256']
  const host = req.headers.host
  const authorization = req.headers.authorization ?? ''
  if (typeof date !== 'string' || typeof contentHash !== 'string' || host === undefined) {
    return 'x-ms-date, x-ms-content-sha256 and host are required'
  }
  const when = Date.parse(date)
  if (Number.isNaN(when) || Math.abs(Date.now() - when) > MAX_CLOCK_SKEW_MS) {
    return 'x-ms-date is missing, unreadable or too far from now'
  }
  if (createHash('sha256').update(body).digest('base64') !== contentHash) {
    return 'x-ms-content-sha256 does not match the body'
  }
  const match = /^HMAC-SHA256 SignedHeaders=([^&]+)&Signature=(.+)$/.exec(authorization)
  if (match === null || match[1] !== 'x-ms-date;host;x-ms-content-sha256') {
    return 'Authorization is not HMAC-SHA256 over x-ms-date;host;x-ms-content-sha256'
  }
  const url = new URL(req.url ?? '/', 'https://stand-in')
  const query = url.searchParams.toString()
  const pathAndQuery = query === '' ? url.pathname : `${url.pathname}?${query}`
  const toSign = `${req.method ?? ''}\n${pathAndQuery}\n${date};${host};${contentHash}`
  const expected = createHmac('sha256', key).update(toSign, 'utf8').digest()
  const given = Buffer.from(match[2] ?? '', 'base64')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return 'the signature does not match'
  }
  return undefined
}

/** The body checks ACS makes that a client can get wrong; throws a 400. */
function validate(json: unknown): asserts json is Record<string, unknown> {
  const bad = (message: string) => new AcsHttpError(400, 'BadRequest', message)
  if (!isObject(json)) throw bad('The request body is not a JSON object.')
  if (typeof json.senderAddress !== 'string' || !json.senderAddress.includes('@')) {
    throw bad('senderAddress is required and must be an e-mail address.')
  }
  const recipients = json.recipients
  const to = isObject(recipients) ? recipients.to : undefined
  const addresses = (list: unknown) =>
    Array.isArray(list) ? (list as unknown[]).filter(isObject).map((r) => r.address) : []
  if (!Array.isArray(to) || to.length === 0) {
    throw bad('recipients.to must contain at least one recipient.')
  }
  const all = [
    ...addresses(to),
    ...addresses(isObject(recipients) ? recipients.cc : undefined),
    ...addresses(isObject(recipients) ? recipients.bcc : undefined),
  ]
  if (all.some((address) => typeof address !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(address))) {
    throw bad('Every recipient needs a valid address.')
  }
  const content = json.content
  if (!isObject(content) || typeof content.subject !== 'string' || content.subject === '') {
    throw bad('content.subject is required.')
  }
  if (typeof content.plainText !== 'string' && typeof content.html !== 'string') {
    throw bad('content needs plainText or html.')
  }
}

interface Rule {
  readonly fault: AcsFault
  readonly on: 'send' | 'poll'
  remaining: number
}

interface Operation {
  readonly outcome: AcsOutcome
  runningPolls: number
}

export async function startAcsEmailApi(options: AcsEmailOptions = {}): Promise<AcsEmailStandIn> {
  const { cert, key } = await testTls()
  const accessKey = options.accessKey ?? randomBytes(32).toString('base64')
  const keyBytes = Buffer.from(accessKey, 'base64')
  const requests: AcsRequest[] = []
  const messages: AcsMessage[] = []
  const rules: Rule[] = []
  const operations = new Map<string, Operation>()
  const held = heldAnswers() // slow or hanging answers: ended by close()
  let outcome: AcsOutcome = { status: 'Succeeded' }
  let runningPolls = 0
  let origin = ''

  const pollDelay: Record<string, string> =
    options.pollRetryAfterSeconds === undefined
      ? {}
      : { 'retry-after': String(options.pollRetryAfterSeconds) }

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-ms-request-id': randomUUID(),
      ...headers,
    })
    res.end(text)
  }

  const sendError = (
    res: ServerResponse,
    error: AcsHttpError,
    headers: Record<string, string> = {},
  ) =>
    send(
      res,
      error.status,
      { error: { code: error.code, message: error.message } },
      { 'x-ms-error-code': error.code, ...headers },
    )

  const takeFault = (kind: 'send' | 'poll'): AcsFault | undefined => {
    const index = rules.findIndex((rule) => rule.on === kind)
    const rule = rules[index]
    if (rule === undefined) return undefined
    rule.remaining -= 1
    if (rule.remaining <= 0) rules.splice(index, 1)
    return rule.fault
  }

  const operationBody = (id: string, operation: Operation) => {
    if (operation.runningPolls > 0) {
      operation.runningPolls -= 1
      return { id, status: 'Running' }
    }
    const o = operation.outcome
    return o.status === 'Failed'
      ? { id, status: 'Failed', error: o.error }
      : { id, status: o.status }
  }

  const route = (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    json: unknown,
    record: { signatureValid: boolean | undefined },
    body: Buffer,
  ) => {
    const problem = signatureProblem(req, body, keyBytes)
    record.signatureValid = problem === undefined
    if (problem !== undefined)
      throw new AcsHttpError(401, 'Denied', `Denied by the resource provider. (${problem})`)
    const apiVersion = url.searchParams.get('api-version')
    if (apiVersion === null || apiVersion === '') {
      throw new AcsHttpError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      )
    }
    if (req.method === 'POST' && url.pathname === '/emails:send') {
      validate(json)
      const given = req.headers['operation-id']
      const id = typeof given === 'string' && given !== '' ? given : randomUUID()
      operations.set(id, { outcome, runningPolls })
      const recipients = json.recipients as Record<string, unknown>
      const content = json.content as Record<string, unknown>
      messages.push({
        operationId: id,
        clientOperationId: typeof given === 'string' && given !== '',
        senderAddress: String(json.senderAddress),
        to: (recipients.to as unknown[]).filter(isObject).map((r) => String(r.address)),
        subject: String(content.subject),
        plainText: typeof content.plainText === 'string' ? content.plainText : undefined,
        html: typeof content.html === 'string' ? content.html : undefined,
        body: json,
        apiVersion,
      })
      const location = `${origin}/emails/operations/${encodeURIComponent(id)}?api-version=${encodeURIComponent(apiVersion)}`
      send(res, 202, { id, status: 'Running' }, { 'operation-location': location, ...pollDelay })
      return
    }
    const poll = /^\/emails\/operations\/([^/]+)$/.exec(url.pathname)
    if (req.method === 'GET' && poll !== null) {
      const id = decodeURIComponent(poll[1] ?? '')
      const operation = operations.get(id)
      if (operation === undefined) {
        throw new AcsHttpError(404, 'NotFound', `The operation ${id} was not found.`)
      }
      const body = operationBody(id, operation)
      send(res, 200, body, body.status === 'Running' ? pollDelay : {})
      return
    }
    throw new AcsHttpError(404, 'NotFound', `No route for ${req.method ?? ''} ${url.pathname}.`)
  }

  const tls = { cert, key }
  const server = createServer(tls, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const text = body.toString('utf8')
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      const url = new URL(req.url ?? '/', origin)
      const kind =
        req.method === 'POST' && url.pathname === '/emails:send'
          ? 'send'
          : req.method === 'GET' && url.pathname.startsWith('/emails/operations/')
            ? 'poll'
            : 'other'
      const record: { -readonly [K in keyof AcsRequest]: AcsRequest[K] } = {
        method: req.method ?? '',
        url: req.url ?? '',
        kind,
        headers: req.headers,
        text,
        json,
        signatureValid: undefined,
        status: undefined,
        aborted: false,
      }
      requests.push(record)
      res.on('finish', () => (record.status = res.statusCode))
      res.on('close', () => {
        if (!res.writableFinished) record.aborted = true
      })
      const go = () => {
        try {
          route(req, res, url, json, record, body)
        } catch (error) {
          if (error instanceof AcsHttpError) sendError(res, error)
          else sendError(res, new AcsHttpError(500, 'InternalServerError', String(error)))
        }
      }
      const fault = kind === 'other' ? undefined : takeFault(kind)
      switch (fault?.kind) {
        case undefined:
          go()
          return
        case 'status': {
          const fallback = DEFAULT_ERRORS[fault.status] ??
            DEFAULT_ERRORS[fault.status < 500 ? 400 : 500] ?? { code: 'Error', message: '' }
          const retryAfter =
            fault.retryAfterSeconds === null
              ? undefined
              : (fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined))
          const error = new AcsHttpError(
            fault.status,
            fault.code ?? fallback.code,
            fault.message ?? fallback.message,
          )
          sendError(
            res,
            error,
            retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
          )
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
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    origin,
    accessKey,
    connectionString: `endpoint=${origin}/;accesskey=${accessKey}`,
    requests,
    messages,
    hits(kind) {
      return requests.filter((r) => r.kind === kind).length
    },
    fault(fault, faultOptions = {}) {
      rules.push({
        fault,
        on: faultOptions.on ?? 'send',
        remaining: faultOptions.times ?? Infinity,
      })
    },
    clearFaults() {
      rules.length = 0
    },
    outcome(next, outcomeOptions = {}) {
      outcome = next
      runningPolls = outcomeOptions.runningPolls ?? 0
    },
    reset() {
      rules.length = 0
      requests.length = 0
      messages.length = 0
      operations.clear()
      outcome = { status: 'Succeeded' }
      runningPolls = 0
    },
    close() {
      held.close()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
