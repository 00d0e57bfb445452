// An HTTPS stand-in for Graph's sign-in logs on loopback (trusted through the test CA: see
// test-ca.ts), for the sign-ins it is seeded with (contract §8):
//   GET /beta/auditLogs/signIns   $filter on createdDateTime (ge / lt, joined by "and"), $top,
//                                 newest first, paged by absolute @odata.nextLink ($skiptoken)
// Every request needs `Authorization: Bearer <an access token from the token-endpoint stand-in
// for this stand-in's own origin>` (401 otherwise). Other query options, or another $filter,
// answer 400. Faults (a status with a Graph error body, Retry-After for 429) apply to the next N
// requests. Every request is recorded.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import { testTls } from './test-ca.js'
import type { TokenEndpointStandIn } from './token-endpoint.js'

export interface SignInRecord {
  readonly id: string
  readonly createdDateTime: string
  readonly appliedEventListeners?: unknown
  readonly [property: string]: unknown
}

export interface SignInLogFault {
  readonly status: number
  /** Graph's error code; by status unless given. */
  readonly code?: string
  readonly retryAfterSeconds?: number
}

export interface SignInLogRequest {
  readonly path: string
  readonly query: URLSearchParams
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly status: number
}

export interface SignInLogStandIn {
  /** GRAPH_BASE_URL: https://127.0.0.1:<port> */
  readonly origin: string
  signIns: SignInRecord[]
  /** Page size without $top. */
  pageSize: number
  readonly requests: SignInLogRequest[]
  /** Answers the next `times` requests (1 unless given) with this fault. */
  fault(fault: SignInLogFault, times?: number): void
  reset(): void
  close(): Promise<void>
}

const CODES: Record<number, [string, string]> = {
  400: ['BadRequest', 'Invalid request.'],
  401: ['InvalidAuthenticationToken', 'Access token validation failure.'],
  403: ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'],
  429: ['TooManyRequests', 'Too many requests.'],
  500: ['UnknownError', 'An unknown error occurred.'],
}
const PATH = '/beta/auditLogs/signIns'
const CLAUSE = /^createdDateTime (ge|lt) (\d{4}-\d{2}-\d{2}T[\d:.]+Z)$/

class HttpError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** The createdDateTime bounds of a $filter like Graph's: clauses joined by " and ". */
function parseFilter(filter: string | null): { ge?: number; lt?: number } {
  if (filter === null) return {}
  const bounds: { ge?: number; lt?: number } = {}
  for (const clause of filter.split(' and ')) {
    const match = CLAUSE.exec(clause.trim())
    if (match === null) throw new HttpError(400, 'BadRequest', `Invalid filter clause: ${clause}`)
    bounds[match[1] as 'ge' | 'lt'] = Date.parse(match[2] ?? '')
  }
  return bounds
}

export async function startSignInLogServer(options: {
  readonly tokens: TokenEndpointStandIn
  readonly signIns?: readonly SignInRecord[]
  readonly pageSize?: number
}): Promise<SignInLogStandIn> {
  const tls = await testTls()
  const faults: { fault: SignInLogFault; remaining: number }[] = []

  const send = (res: ServerResponse, status: number, body: unknown, headers = {}) => {
    res
      .writeHead(status, { 'content-type': 'application/json;odata.metadata=minimal', ...headers })
      .end(JSON.stringify(body))
  }
  const sendError = (res: ServerResponse, status: number, code: string, message: string) => {
    send(res, status, {
      error: {
        code,
        message,
        innerError: { date: new Date().toISOString(), 'request-id': randomUUID() },
      },
    })
  }

  const answer = async (res: ServerResponse, url: URL, authorization: string | undefined) => {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1]
    if (token === undefined) throw new HttpError(401, 'InvalidAuthenticationToken', 'No token.')
    const check = await options.tokens.verifyAccessToken(token, state.origin)
    if (!check.ok) throw new HttpError(401, 'InvalidAuthenticationToken', check.reason)
    const rule = faults.find((f) => f.remaining > 0)
    if (rule !== undefined) {
      rule.remaining -= 1
      const { status, retryAfterSeconds } = rule.fault
      const [code, message] = CODES[status] ?? ['UnknownError', 'Fault.']
      const headers: Record<string, string> =
        status === 429 || retryAfterSeconds !== undefined
          ? { 'retry-after': String(retryAfterSeconds ?? 1) }
          : {}
      send(
        res,
        status,
        { error: { code: rule.fault.code ?? code, message, innerError: { date: '' } } },
        headers,
      )
      return
    }
    if (url.pathname !== PATH) throw new HttpError(400, 'BadRequest', `No route ${url.pathname}`)
    for (const name of url.searchParams.keys()) {
      if (!['$filter', '$top', '$skiptoken'].includes(name))
        throw new HttpError(400, 'BadRequest', `The stand-in does not implement ${name}.`)
    }
    const { ge, lt } = parseFilter(url.searchParams.get('$filter'))
    const top = Number(url.searchParams.get('$top') ?? state.pageSize)
    if (!Number.isInteger(top) || top < 1 || top > 1000)
      throw new HttpError(400, 'BadRequest', 'Invalid $top.')
    const offset = Number(url.searchParams.get('$skiptoken') ?? 0)
    const listed = state.signIns
      .filter((s) => {
        const at = Date.parse(s.createdDateTime)
        return (ge === undefined || at >= ge) && (lt === undefined || at < lt)
      })
      .sort((a, b) => Date.parse(b.createdDateTime) - Date.parse(a.createdDateTime))
    const body: Record<string, unknown> = {
      '@odata.context': `${state.origin}/beta/$metadata#auditLogs/signIns`,
      value: listed.slice(offset, offset + top),
    }
    if (offset + top < listed.length) {
      const next = new URLSearchParams(url.searchParams)
      next.set('$skiptoken', String(offset + top))
      body['@odata.nextLink'] = `${state.origin}${PATH}?${next.toString().replace(/\+/g, '%20')}`
    }
    send(res, 200, body)
  }

  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', state.origin)
    res.on('finish', () =>
      state.requests.push({
        path: url.pathname,
        query: url.searchParams,
        url: req.url ?? '',
        headers: req.headers,
        status: res.statusCode,
      }),
    )
    answer(res, url, req.headers.authorization).catch((error: unknown) => {
      if (res.headersSent) return
      if (error instanceof HttpError) sendError(res, error.status, error.code, error.message)
      else sendError(res, 500, 'UnknownError', String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

  const state: SignInLogStandIn = {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    signIns: [...(options.signIns ?? [])],
    pageSize: options.pageSize ?? 100,
    requests: [],
    fault(fault, times = 1) {
      faults.push({ fault, remaining: times })
    },
    reset() {
      faults.length = 0
      state.requests.length = 0
    },
    close() {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return state
}
