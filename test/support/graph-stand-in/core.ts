// The core of the Microsoft Graph stand-in: an HTTPS server on loopback (trusted through the test
// CA: see ../test-ca.ts) that does what every Graph resource shares, so that a resource module
// (users.ts, sign-in-logs.ts) only declares its routes:
// - the bearer token: `Authorization: Bearer <an access token from the token-endpoint stand-in>`
//   for this stand-in's origin or for https://graph.microsoft.com, else 401
//   InvalidAuthenticationToken (with WWW-Authenticate);
// - faults: configured calls (a path, a method, every n-th, n times) answer a status with a
//   Graph error body (429 with Retry-After), answer late, never answer (`hang`) or drop the
//   connection (`reset`); checked after the token (before it with `faultsBeforeToken`), for a
//   whole $batch and for each of its items alike (an item cannot hang or reset);
// - bodies: at most 1 MiB of JSON with an application/json content type (413, 415, 400);
// - query options: a route names those it implements; any other answers 400
//   Request_UnsupportedQuery, so a caller relying on one fails here rather than passing against a
//   stand-in that ignored it;
// - errors as Graph writes them: { error: { code, message, innerError: { date, request-id,
//   client-request-id } } }, and `request-id` / `client-request-id` headers on every answer;
// - JSON $batch (POST /{v1.0|beta}/$batch): 1-20 requests with unique ids, each answered through
//   the same routes and faults, responses in reverse order (clients must match them by id);
// - paging (page()): $top, $skiptoken (an offset) and an absolute @odata.nextLink; $select
//   (selection()).
// Every HTTP request is recorded in `requests` when it arrives (its status when answered, or
// `aborted` when the client left first); every call, including each item of a $batch, in `calls`.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { heldAnswers } from '../held-answers.js'
import { testTls } from '../test-ca.js'
import { GRAPH_RESOURCE, type TokenEndpointStandIn } from '../token-endpoint.js'

export type GraphApiVersion = 'v1.0' | 'beta'

/** One call: an HTTP request, or one request of a $batch. */
export interface GraphCall {
  readonly method: string
  readonly version: GraphApiVersion
  /** With the version, without the query: /v1.0/users */
  readonly path: string
  readonly query: URLSearchParams
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body, undefined when none. */
  readonly body: unknown
  readonly inBatch: boolean
}

export interface GraphAnswer {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

export interface GraphRoute {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  /** Matched against the path (version included); groups are passed to `answer`. */
  readonly path: RegExp
  /** The query options implemented, e.g. ['$select', '$filter']: any other answers 400… */
  readonly query?: readonly string[]
  /** …unless the route names, instead, the options it refuses (the others are ignored). */
  readonly unsupportedQuery?: readonly string[]
  answer(call: GraphCall, match: RegExpExecArray, origin: string): GraphAnswer
}

export interface GraphResource {
  readonly routes: readonly GraphRoute[]
}

/** A Graph error answer, thrown by routes. */
export class GraphStandInError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** A request path (without its query), exactly, or a pattern for it. */
export type PathMatch = string | RegExp

export interface GraphFault {
  /** The status answered; without one, the call is answered normally after `delayMs`. */
  readonly status?: number
  /** Graph's error code; by status unless given. */
  readonly code?: string
  readonly message?: string
  /** Sent with every fault when given, and with 429 always (1 unless given). */
  readonly retryAfterSeconds?: number
  /** Answers this much later (a slow Graph; a client's timeout ends the wait first). */
  readonly delayMs?: number
  /** Never answers; close() ends the connection. */
  readonly hang?: boolean
  /** Drops the connection without answering. */
  readonly reset?: boolean
  /** Which calls: all unless given. */
  readonly path?: PathMatch
  readonly method?: string
  /** Only every n-th matching call (the n-th, 2n-th, …). */
  readonly every?: number
  /** How many calls it answers: 1 unless given (Infinity: until cleared). */
  readonly times?: number
}

export interface RecordedGraphRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  /** Path and query as requested. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** The status answered; undefined while pending, or when never answered. */
  readonly status: number | undefined
  /** Whether the client closed the connection before an answer. */
  readonly aborted: boolean
  /** Settles when the exchange is over: answered, abandoned by the client, or reset. */
  readonly done: Promise<void>
  readonly inBatch: boolean
}

export interface GraphStandInCore {
  /** GRAPH_BASE_URL: https://127.0.0.1:<port> */
  readonly origin: string
  /** Every HTTP request, in the order answered. */
  readonly requests: RecordedGraphRequest[]
  /** Every call: HTTP requests and the items of each $batch. */
  readonly calls: RecordedGraphRequest[]
  fault(fault: GraphFault): void
  clearFaults(): void
  /** Forgets requests, calls and faults (not the resources' data). */
  reset(): void
  close(): Promise<void>
}

export const DEFAULT_ERRORS: Readonly<Record<number, readonly [string, string]>> = {
  400: ['Request_BadRequest', 'Invalid request.'],
  401: ['InvalidAuthenticationToken', 'Access token validation failure.'],
  403: ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'],
  404: ['Request_ResourceNotFound', 'Resource does not exist.'],
  429: ['TooManyRequests', 'Too many requests.'],
  500: ['UnknownError', 'An unknown error occurred.'],
  503: ['ServiceNotAvailable', 'The service is temporarily unavailable.'],
}

const MAX_BODY = 1024 * 1024
const MAX_BATCH = 20
const JSON_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'
const VERSIONED = /^\/(v1\.0|beta)(\/.*)$/

export async function startGraphStandIn(options: {
  readonly tokens: TokenEndpointStandIn
  readonly resources: readonly GraphResource[]
  /** Faults answer before the token is checked (a Graph that fails whoever asks). */
  readonly faultsBeforeToken?: boolean
}): Promise<GraphStandInCore> {
  const tls = await testTls()
  const held = heldAnswers()
  const routes = options.resources.flatMap((r) => r.routes)
  const faults: { fault: GraphFault; seen: number; remaining: number }[] = []
  const requests: RecordedGraphRequest[] = []
  const calls: RecordedGraphRequest[] = []

  const errorAnswer = (
    error: GraphStandInError,
    ids: { requestId: string; clientRequestId: string },
    headers: Record<string, string> = {},
  ): GraphAnswer => ({
    status: error.status,
    headers,
    body: {
      error: {
        code: error.code,
        message: error.message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ''),
          'request-id': ids.requestId,
          'client-request-id': ids.clientRequestId,
        },
      },
    },
  })

  /** The fault this call meets, if any (counting it). */
  const faultFor = (method: string, path: string): GraphFault | undefined => {
    for (const rule of faults) {
      const { fault } = rule
      if (rule.remaining <= 0) continue
      if (fault.method !== undefined && fault.method !== method) continue
      if (fault.path !== undefined && !matches(path, fault.path)) continue
      rule.seen += 1
      if (fault.every !== undefined && rule.seen % fault.every !== 0) continue
      rule.remaining -= 1
      return fault
    }
    return undefined
  }

  const faultAnswer = (fault: GraphFault & { status: number }, ids: Ids): GraphAnswer => {
    const [code, message] = DEFAULT_ERRORS[fault.status] ??
      DEFAULT_ERRORS[fault.status < 500 ? 400 : 500] ?? ['UnknownError', '']
    const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined)
    return errorAnswer(
      new GraphStandInError(fault.status, fault.code ?? code, fault.message ?? message),
      ids,
      retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
    )
  }

  /** A call past the token and its fault: a $batch, or the route for its method and path. */
  const dispatch = async (call: GraphCall, ids: Ids): Promise<GraphAnswer> => {
    try {
      if (!call.inBatch && call.method === 'POST' && /^\/(v1\.0|beta)\/\$batch$/.test(call.path))
        return await batch(call, ids)
      const candidates = routes.filter((r) => r.path.test(call.path))
      const found = candidates.find((r) => r.method === call.method)
      if (found === undefined) {
        if (candidates.length > 0)
          throw new GraphStandInError(405, 'Request_BadRequest', 'The method is not allowed.')
        throw new GraphStandInError(
          400,
          'BadRequest',
          `Resource not found for the segment '${call.path}'.`,
        )
      }
      for (const name of call.query.keys()) {
        const refused =
          found.unsupportedQuery === undefined
            ? !(found.query ?? []).includes(name)
            : found.unsupportedQuery.includes(name)
        if (refused)
          throw new GraphStandInError(
            400,
            'Request_UnsupportedQuery',
            `The Graph stand-in does not implement ${name} here.`,
          )
      }
      return found.answer(call, found.path.exec(call.path)!, state.origin)
    } catch (error) {
      if (error instanceof GraphStandInError) return errorAnswer(error, ids)
      return errorAnswer(new GraphStandInError(500, 'UnknownError', String(error)), ids)
    }
  }

  const batch = async (call: GraphCall, ids: Ids): Promise<GraphAnswer> => {
    const items = (call.body as { requests?: unknown } | undefined)?.requests
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH)
      throw new GraphStandInError(
        400,
        'BadRequest',
        `A batch holds 1 to ${MAX_BATCH} requests in "requests".`,
      )
    const seen = new Set<string>()
    const responses: unknown[] = []
    for (const item of items as unknown[]) {
      const { id, method, url, body, headers, dependsOn, ...rest } = (item ?? {}) as Record<
        string,
        unknown
      >
      if (typeof id !== 'string' || id === '' || seen.has(id))
        throw new GraphStandInError(400, 'BadRequest', 'Each request needs a unique string id.')
      seen.add(id)
      if (dependsOn !== undefined || Object.keys(rest).length > 0)
        throw new GraphStandInError(
          400,
          'BadRequest',
          'The stand-in implements id, method, url, body and headers.',
        )
      if (typeof method !== 'string' || typeof url !== 'string')
        throw new GraphStandInError(400, 'BadRequest', `Request ${id} needs a method and a url.`)
      const itemHeaders = lowerCase(headers)
      if (body !== undefined && !/^application\/json\b/.test(itemHeaders['content-type'] ?? ''))
        throw new GraphStandInError(
          400,
          'BadRequest',
          `Request ${id} has a body without a JSON content-type.`,
        )
      const relative = new URL(url.replace(/^\/?/, '/'), 'https://batch.invalid')
      const itemCall: GraphCall = {
        method: method.toUpperCase(),
        version: call.version,
        path: `/${call.version}${relative.pathname}`,
        query: relative.searchParams,
        headers: itemHeaders,
        body,
        inBatch: true,
      }
      const itemIds = { requestId: randomUUID(), clientRequestId: ids.clientRequestId }
      const fault = faultFor(itemCall.method, itemCall.path)
      if (fault?.delayMs !== undefined)
        await new Promise((resolve) => setTimeout(resolve, fault.delayMs).unref())
      const answer =
        fault?.status !== undefined
          ? faultAnswer({ ...fault, status: fault.status }, itemIds)
          : await dispatch(itemCall, itemIds)
      calls.push({
        method: itemCall.method,
        path: itemCall.path,
        query: itemCall.query,
        url,
        headers: itemHeaders,
        status: answer.status,
        aborted: false,
        done: Promise.resolve(),
        inBatch: true,
      })
      responses.push({
        id,
        status: answer.status,
        headers: { 'content-type': 'application/json', ...answer.headers },
        ...(answer.body === undefined ? {} : { body: answer.body }),
      })
    }
    return { status: 200, body: { responses: responses.reverse() } }
  }

  /** The 401 answer for a request without an acceptable token, or undefined. */
  const refuseToken = async (req: IncomingMessage, ids: Ids): Promise<GraphAnswer | undefined> => {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
    // Graph accepts tokens for its own origin (a national cloud's, or this stand-in's, which is
    // what GRAPH_BASE_URL makes a client ask for) as well as for the public cloud's resource.
    const own =
      token === undefined ? undefined : await options.tokens.verifyAccessToken(token, state.origin)
    const check =
      token === undefined || own === undefined || own.ok
        ? own
        : await options.tokens.verifyAccessToken(token, GRAPH_RESOURCE)
    if (check !== undefined && check.ok) return undefined
    return errorAnswer(
      new GraphStandInError(
        401,
        'InvalidAuthenticationToken',
        check === undefined
          ? 'Access token is empty.'
          : `Access token validation failure: ${check.reason}`,
      ),
      ids,
      {
        'www-authenticate': `Bearer realm="", authorization_uri="${options.tokens.authorityHost}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
      },
    )
  }

  /** One HTTP request: token and fault (in the configured order), body, then dispatch. */
  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    ids: Ids,
    onReset: () => void,
  ): Promise<GraphAnswer | undefined> => {
    const method = req.method ?? ''
    const early = options.faultsBeforeToken === true ? faultFor(method, url.pathname) : undefined
    if (early === undefined) {
      const refused = await refuseToken(req, ids)
      if (refused !== undefined) {
        req.resume()
        return refused
      }
    }
    const fault = options.faultsBeforeToken === true ? early : faultFor(method, url.pathname)
    if (fault?.hang === true) {
      req.resume()
      held.hang(res)
      return undefined
    }
    if (fault?.reset === true) {
      onReset()
      res.socket?.destroy()
      return undefined
    }
    if (fault?.delayMs !== undefined) {
      const delayMs = fault.delayMs
      await new Promise<void>((resolve) => held.later(res, delayMs, resolve))
    }
    if (fault?.status !== undefined) {
      req.resume()
      return faultAnswer({ ...fault, status: fault.status }, ids)
    }
    if (early !== undefined) {
      const refused = await refuseToken(req, ids)
      if (refused !== undefined) {
        req.resume()
        return refused
      }
    }
    let body: unknown
    try {
      body = await readJson(req)
    } catch (error) {
      if (error instanceof GraphStandInError) return errorAnswer(error, ids)
      throw error
    }
    const version = VERSIONED.exec(url.pathname)?.[1] as GraphApiVersion | undefined
    if (version === undefined)
      return errorAnswer(
        new GraphStandInError(400, 'BadRequest', 'Invalid version: use /v1.0 or /beta.'),
        ids,
      )
    return dispatch(
      {
        method,
        version,
        path: url.pathname,
        query: url.searchParams,
        headers: lowerCase(req.headers),
        body,
        inBatch: false,
      },
      ids,
    )
  }

  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', state.origin)
    const sent = req.headers['client-request-id']
    const ids = {
      requestId: randomUUID(),
      clientRequestId: typeof sent === 'string' ? sent : randomUUID(),
    }
    let reset = false
    const record = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      url: req.url ?? '',
      headers: req.headers,
      status: undefined as number | undefined,
      aborted: false,
      inBatch: false,
      done: new Promise<void>((resolve) => {
        res.on('finish', () => {
          record.status = res.statusCode
          resolve()
        })
        res.on('close', () => {
          if (!res.writableFinished && !reset) record.aborted = true
          resolve()
        })
      }),
    }
    requests.push(record)
    calls.push(record)
    serve(req, res, url, ids, () => (reset = true))
      .catch((error: unknown) =>
        errorAnswer(new GraphStandInError(500, 'UnknownError', String(error)), ids),
      )
      .then((answer) => {
        if (answer === undefined || res.headersSent || res.destroyed) return
        const headers = {
          'request-id': ids.requestId,
          'client-request-id': ids.clientRequestId,
          ...answer.headers,
        }
        if (answer.body === undefined) res.writeHead(answer.status, headers).end()
        else
          res
            .writeHead(answer.status, { 'content-type': JSON_TYPE, ...headers })
            .end(JSON.stringify(answer.body))
      })
      .catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

  const state: GraphStandInCore = {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    calls,
    fault(fault) {
      faults.push({ fault, seen: 0, remaining: fault.times ?? 1 })
    },
    clearFaults() {
      faults.length = 0
    },
    reset() {
      faults.length = 0
      requests.length = 0
      calls.length = 0
    },
    close() {
      held.close()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return state
}

interface Ids {
  readonly requestId: string
  readonly clientRequestId: string
}

const matches = (path: string, match: PathMatch): boolean =>
  typeof match === 'string' ? path === match : match.test(path)

function lowerCase(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (headers === null || typeof headers !== 'object') return out
  for (const [name, value] of Object.entries(headers))
    if (typeof value === 'string') out[name.toLowerCase()] = value
  return out
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY) throw new GraphStandInError(413, 'Request_BadRequest', 'Body too large.')
    chunks.push(chunk)
  }
  if (size === 0) return undefined
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
    throw new GraphStandInError(415, 'Request_BadRequest', 'Use application/json.')
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  } catch {
    throw new GraphStandInError(400, 'BadRequest', 'Unable to read JSON request payload.')
  }
}

/** $select, parsed: undefined when absent. */
export function selection(query: URLSearchParams): string[] | undefined {
  const select = query.get('$select')
  if (select === null) return undefined
  return select
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
}

/**
 * One page of `items`: $top (1-999, else `pageSize`) from the $skiptoken offset, with an absolute
 * @odata.nextLink that keeps the other query options.
 */
export function page(
  call: GraphCall,
  origin: string,
  items: readonly unknown[],
  options: { readonly pageSize: number; readonly context: string; readonly maxTop?: number },
): GraphAnswer {
  const top = call.query.get('$top')
  const size = top === null ? options.pageSize : Number(top)
  if (!Number.isInteger(size) || size < 1 || size > (options.maxTop ?? 999))
    throw new GraphStandInError(400, 'BadRequest', `Invalid page size specified: '${top}'.`)
  const skiptoken = call.query.get('$skiptoken')
  const offset = skiptoken === null ? 0 : Number(skiptoken)
  if (!Number.isInteger(offset) || offset < 0)
    throw new GraphStandInError(400, 'BadRequest', 'Invalid $skiptoken.')
  const body: Record<string, unknown> = {
    '@odata.context': `${origin}/${call.version}/$metadata#${options.context}`,
    value: items.slice(offset, offset + size),
  }
  if (offset + size < items.length) {
    const next = new URLSearchParams(call.query)
    next.set('$skiptoken', String(offset + size))
    body['@odata.nextLink'] = `${origin}${call.path}?${next.toString().replace(/\+/g, '%20')}`
  }
  return { status: 200, body }
}
