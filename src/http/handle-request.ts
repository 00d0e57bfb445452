// The request pipeline, in the order the contract sets: method (405) -> caller token (401) ->
// content type (415) -> bounded body (413) -> JSON (400) -> event schema (400) -> handler under the
// deadline (502/503/504) -> response schema (500, our bug) -> 200. One audit line per request.
import { parse as parseLosslessJson } from 'lossless-json'
import { isUtf8 } from 'node:buffer'
import type * as z from 'zod'
import type { CallerVerifier } from '../auth/verify-caller.js'
import { createDeadlineClock, type Deadline } from '../deadline.js'
import { describeIssue } from '../describe-issue.js'
import { EndpointError } from '../errors.js'
import {
  EVENT_ROUTES,
  routeForEventType,
  type EventHandlers,
  type EventRoute,
} from '../events/routes.js'
import type { HandlerContext } from '../events/handler-context.js'
import { withFields, type Logger } from '../log.js'
import { NO_TELEMETRY, type RequestTrace, type Telemetry } from '../telemetry/telemetry.js'
import { errorReply, JSON_HEADERS, toEndpointError } from './error-reply.js'
import { readBoundedBody } from './read-body.js'
import type { IncomingCall, Reply } from './types.js'

export interface PipelineOptions {
  readonly verifier: CallerVerifier
  readonly handlers: EventHandlers
  readonly requestBudgetMs: number
  readonly maxBodyBytes: number
  readonly now: () => number
  /** Spans and metrics (default: none). */
  readonly telemetry?: Telemetry
}

export interface CallContext {
  readonly log: Logger
}

export type HandleRequest = (
  route: EventRoute,
  call: IncomingCall,
  context: CallContext,
) => Promise<Reply>

export function createRequestHandler(options: PipelineOptions): HandleRequest {
  const { verifier, handlers, now } = options
  const telemetry = options.telemetry ?? NO_TELEMETRY
  const deadlines = createDeadlineClock()

  async function runPipeline(
    route: EventRoute,
    call: IncomingCall,
    deadline: Deadline,
    log: Logger,
    audit: { correlationId?: string },
    trace: RequestTrace,
  ): Promise<Reply> {
    if (call.method !== 'POST')
      throw new EndpointError('ERR_METHOD_NOT_ALLOWED', 'only POST is allowed')
    await verifier.verify(call.headers.get('authorization'), deadline)
    if (!isJson(call.headers.get('content-type'))) {
      throw new EndpointError(
        'ERR_UNSUPPORTED_MEDIA_TYPE',
        '"content-type" must be application/json',
      )
    }
    const body = await readBoundedBody(call, options.maxBodyBytes, deadline)
    const json = parseJson(body)
    const spec = EVENT_ROUTES[route]
    checkEventType(json, spec.type)
    const parsed = spec.request.safeParse(json)
    if (!parsed.success) throw new EndpointError('ERR_INVALID_REQUEST', firstIssue(parsed.error))
    const correlationId = parsed.data.data.authenticationContext.correlationId
    audit.correlationId = correlationId
    trace.correlate(correlationId)

    // The route's own handler; the table ties each route to its event type.
    const handle = handlers[route] as (event: unknown, context: object) => Promise<unknown>
    const context = new LazyHandlerContext(deadline, log, { correlationId }, now, trace)
    const answer = await deadline.race<unknown>(handle(parsed.data, context), budgetSpent)
    const checked = spec.response.safeParse(answer)
    if (!checked.success) {
      throw new EndpointError('ERR_INVALID_RESPONSE', 'the answer does not match the contract', {
        cause: checked.error,
      })
    }
    // What the schema cannot see (OnPasswordSubmit: the nonce must be the request's own).
    const answerProblem = (
      spec as { answerProblem?: (request: unknown, answer: unknown) => string | undefined }
    ).answerProblem?.(parsed.data, checked.data)
    if (answerProblem !== undefined) {
      throw new EndpointError('ERR_INVALID_RESPONSE', 'the answer does not match the contract', {
        cause: new Error(answerProblem),
      })
    }
    return { status: 200, headers: JSON_HEADERS, body: JSON.stringify(checked.data) }
  }

  return async function handleRequest(route, call, { log }) {
    const started = now()
    const deadline = deadlines.start(options.requestBudgetMs)
    const audit: { correlationId?: string } = {}
    const trace = telemetry.request(route)
    let reply: Reply
    let outcome = 'ok'
    try {
      reply = await runPipeline(route, call, deadline, log, audit, trace)
    } catch (err) {
      outcome = toEndpointError(err).code
      reply = errorReply(err, log)
    }
    // After a failure, work may still be running (a sibling of a failed call, a handler past the
    // deadline): abort it. After a success, nothing is left to abort.
    deadline.finish(outcome !== 'ok')
    const ms = now() - started
    log.info('auth_event', {
      route,
      status: reply.status,
      outcome,
      ms,
      correlationId: audit.correlationId,
    })
    trace.end({ status: reply.status, outcome, ms })
    return reply
  }
}

/**
 * The signal and the correlated logger are getters: only a handler that does I/O makes the
 * deadline create a signal, and only one that logs gets a logger made for this request.
 */
class LazyHandlerContext implements HandlerContext {
  readonly now: () => number
  readonly trace: RequestTrace
  private readonly deadline: Deadline
  private readonly baseLog: Logger
  private readonly fields: { readonly correlationId: string }
  private correlatedLog: Logger | undefined
  constructor(
    deadline: Deadline,
    log: Logger,
    fields: { readonly correlationId: string },
    now: () => number,
    trace: RequestTrace,
  ) {
    this.deadline = deadline
    this.baseLog = log
    this.fields = fields
    this.now = now
    this.trace = trace
  }
  get log(): Logger {
    return (this.correlatedLog ??= withFields(this.baseLog, this.fields))
  }
  get signal(): AbortSignal {
    return this.deadline.signal
  }
  remainingMs(): number {
    return this.deadline.remainingMs()
  }
}

const budgetSpent = () =>
  new EndpointError(
    'ERR_DEADLINE_EXCEEDED',
    'the request budget ran out before an answer was ready',
  )

/** `application/json`, optionally with a UTF-8 charset (RFC 8259 §8.1: JSON is UTF-8). */
const COMMON_JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8'])

function isJson(contentType: string | null): boolean {
  if (contentType === null) return false
  if (COMMON_JSON_TYPES.has(contentType)) return true // what Entra sends: no parsing needed
  const [type, ...params] = contentType.split(';').map((part) => part.trim().toLowerCase())
  if (type !== 'application/json') return false
  return params.every((param) => !param.startsWith('charset=') || /^charset="?utf-8"?$/.test(param))
}

function parseJson(body: Buffer): unknown {
  try {
    const text = body.toString('utf8')
    // toString replaces invalid bytes with U+FFFD: only then is the (native) isUtf8 check needed.
    if (text.includes('\uFFFD') && !isUtf8(body)) throw new Error('invalid UTF-8')
    const json = JSON.parse(text) as unknown
    return MAY_LOSE_DIGITS.test(text) ? parseLossless(text) : json
  } catch {
    throw new EndpointError('ERR_MALFORMED_JSON', 'the body is not valid UTF-8 JSON')
  }
}

/**
 * A number JSON.parse may not read as written: 16 or more digits (2^53 has 16), or an exponent.
 * It also matches such text inside strings; that only costs the slower parse below.
 */
const MAY_LOSE_DIGITS = /[:,[]\s*-?(?:\d{16}|[\d.]+[eE])/

/**
 * JSON.parse turns a user's 17-digit int64 attribute into the nearest double (and 1e400 into
 * Infinity). Such a body is parsed again, keeping every integer outside the safe range, and every
 * number a double cannot hold, as the text Entra sent: rules and the customer's API then see the
 * digits the user typed. JSON.parse has already judged the syntax; duplicate keys keep the last
 * value, as JSON.parse does.
 */
function parseLossless(text: string): unknown {
  return parseLosslessJson(text, null, {
    parseNumber: (digits: string) => {
      const number = Number(digits)
      if (Number.isSafeInteger(number)) return number
      return Number.isFinite(number) && !/^-?\d+$/.test(digits) ? number : digits
    },
    onDuplicateKey: ({ newValue }) => newValue,
  })
}

/** The route decides the event: a body of another event, or of none we know, is refused. */
function checkEventType(json: unknown, expected: string): void {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new EndpointError('ERR_INVALID_REQUEST', 'the body must be a JSON object')
  }
  const record = json as Record<string, unknown>
  // Contract §9.11: an old preview format exists only in old SDK tests; say so plainly.
  if ('apiSchemaVersion' in record) {
    throw new EndpointError(
      'ERR_UNSUPPORTED_EVENT',
      'the preview payload format ("apiSchemaVersion") is not supported',
    )
  }
  const type = record.type
  if (typeof type !== 'string') throw new EndpointError('ERR_INVALID_REQUEST', '"type" is required')
  if (type === expected) return
  if (routeForEventType(type) !== undefined) {
    throw new EndpointError('ERR_WRONG_EVENT_TYPE', `"type" must be "${expected}" on this route`)
  }
  throw new EndpointError('ERR_UNSUPPORTED_EVENT', '"type" is not an event this endpoint handles')
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  return issue === undefined
    ? 'the body does not match the event schema'
    : describeIssue({ ...issue, path: issue.path.map(shownSegment) }, { quotePath: true })
}

/** A name as the schemas spell them (attribute names run to 256 characters): shown as it is. */
const PLAIN_SEGMENT = /^[A-Za-z0-9_@.$-]{1,256}$/
const SHOWN_PREFIX = 32

/**
 * A path segment of the answer. A record key (an attribute name) comes from the request: an odd or
 * long one is shown as a short prefix of its printable ASCII, so that the answer stays small and
 * never echoes the caller's input at length.
 */
function shownSegment(segment: PropertyKey): PropertyKey {
  if (typeof segment !== 'string' || PLAIN_SEGMENT.test(segment)) return segment
  const prefix = [...segment.slice(0, SHOWN_PREFIX)]
    .map((c) => (c >= ' ' && c <= '~' && c !== '"' && c !== '\\' ? c : '?'))
    .join('')
  return segment.length > SHOWN_PREFIX ? `${prefix}…` : prefix
}
