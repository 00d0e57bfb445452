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
// - query options: a route names those it implements (any other answers 400
//   Request_UnsupportedQuery, so a caller relying on one fails here rather than passing against a
//   stand-in that ignored it), or those it refuses;
// - errors as Graph writes them: { error: { code, message, innerError: { date, request-id,
//   client-request-id } } }, and `request-id` / `client-request-id` headers on every answer;
// - JSON $batch (batch.ts), each item answered through the same faults and routes.
// What routes receive and answer, Graph's error body, and the paging and $select helpers are in
// graph-answers.ts.
// Every HTTP request is recorded in `requests` when it arrives (its status when answered, or
// `aborted` when the client left first); every call, including each item of a $batch, in `calls`.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { answerBatch } from './batch.js'
import {
  DEFAULT_ERRORS,
  errorAnswer,
  GraphStandInError,
  lowerCase,
  type GraphAnswer,
  type GraphApiVersion,
  type GraphCall,
  type GraphResource,
  type RequestIds,
} from './graph-answers.js'
import { heldAnswers } from '../held-answers.js'
import { testTls } from '../test-ca.js'
import { GRAPH_RESOURCE, type TokenEndpointStandIn } from '../token-endpoint.js'

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
  /** The request's parsed JSON body, once read (undefined when none or unreadable). */
  readonly body?: unknown
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

const MAX_BODY = 1024 * 1024
const JSON_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'
const VERSIONED = /^\/(v1\.0|beta)(\/.*)$/

export async function startGraphStandIn(options: {
  readonly tokens: TokenEndpointStandIn
  readonly resources: readonly GraphResource[]
  /** Faults answer before the token is checked (a Graph that fails whoever asks). */
  readonly faultsBeforeToken?: boolean
  /** Only tokens for this stand-in's origin (GRAPH_BASE_URL), not for https://graph.microsoft.com. */
  readonly ownOriginOnly?: boolean
  /** Routes see the path URL-decoded (`(appId=%27…%27)` as `(appId='…')`); 400 when it cannot be. */
  readonly decodePath?: boolean
  /** After the token, before the body: an error (a 403 for a denied call) answers instead. */
  readonly authorize?: (method: string, path: string) => GraphStandInError | undefined
  /** The segment named in the 400 for a path no route knows (the whole path unless given). */
  readonly unknownSegment?: (path: string) => string
  /** Called with each HTTP request when its answer has been sent. */
  readonly onAnswered?: (request: RecordedGraphRequest) => void
}): Promise<GraphStandInCore> {
  const tls = await testTls()
  const held = heldAnswers()
  const routes = options.resources.flatMap((r) => r.routes)
  const faults: { fault: GraphFault; seen: number; remaining: number }[] = []
  const requests: RecordedGraphRequest[] = []
  const calls: RecordedGraphRequest[] = []

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

  const faultAnswer = (fault: GraphFault & { status: number }, ids: RequestIds): GraphAnswer => {
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
  const dispatch = async (call: GraphCall, ids: RequestIds): Promise<GraphAnswer> => {
    try {
      if (!call.inBatch && call.method === 'POST' && /^\/(v1\.0|beta)\/\$batch$/.test(call.path))
        return await answerBatch(call, ids, routeItem, recordItem)
      const candidates = routes.filter((r) => r.path.test(call.path))
      const found = candidates.find((r) => r.method === call.method)
      if (found === undefined) {
        if (candidates.length > 0)
          throw new GraphStandInError(
            405,
            'Request_BadRequest',
            'Specified HTTP method is not allowed for the request uri.',
            { allow: [...new Set(candidates.map((r) => r.method))].join(', ') },
          )
        throw new GraphStandInError(
          400,
          'BadRequest',
          `Resource not found for the segment '${options.unknownSegment?.(call.path) ?? call.path}'.`,
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

  /** An item of a $batch: its fault (a status, or a delay), else its route. */
  const routeItem = async (call: GraphCall, ids: RequestIds): Promise<GraphAnswer> => {
    const fault = faultFor(call.method, call.path)
    if (fault?.delayMs !== undefined)
      await new Promise((resolve) => setTimeout(resolve, fault.delayMs).unref())
    if (fault?.status !== undefined) return faultAnswer({ ...fault, status: fault.status }, ids)
    return dispatch(call, ids)
  }

  const recordItem = (call: GraphCall, url: string, status: number) =>
    calls.push({
      method: call.method,
      path: call.path,
      query: call.query,
      url,
      headers: call.headers,
      status,
      aborted: false,
      done: Promise.resolve(),
      inBatch: true,
    })

  /** The 401 answer for a request without an acceptable token, or undefined. */
  const refuseToken = async (
    req: IncomingMessage,
    ids: RequestIds,
  ): Promise<GraphAnswer | undefined> => {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
    // Graph accepts tokens for its own origin (a national cloud's, or this stand-in's, which is
    // what GRAPH_BASE_URL makes a client ask for) as well as for the public cloud's resource.
    const own =
      token === undefined ? undefined : await options.tokens.verifyAccessToken(token, state.origin)
    const check =
      token === undefined || own === undefined || own.ok || options.ownOriginOnly === true
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
    ids: RequestIds,
    onReset: () => void,
    onBody: (body: unknown) => void,
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
    let path = url.pathname
    if (options.decodePath === true)
      try {
        path = url.pathname.split('/').map(decodeURIComponent).join('/')
      } catch {
        req.resume()
        return errorAnswer(
          new GraphStandInError(400, 'BadRequest', 'The request URI is not valid.'),
          ids,
        )
      }
    const refused = options.authorize?.(method, path)
    if (refused !== undefined) {
      req.resume()
      return errorAnswer(refused, ids)
    }
    let body: unknown
    try {
      body = await readJson(req)
    } catch (error) {
      if (error instanceof GraphStandInError) return errorAnswer(error, ids)
      throw error
    }
    onBody(body)
    const version = VERSIONED.exec(path)?.[1] as GraphApiVersion | undefined
    if (version === undefined)
      return errorAnswer(
        new GraphStandInError(400, 'BadRequest', 'Invalid version: use /v1.0 or /beta.'),
        ids,
      )
    return dispatch(
      {
        method,
        version,
        path,
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
      body: undefined as unknown,
      done: new Promise<void>((resolve) => {
        res.on('finish', () => {
          record.status = res.statusCode
          options.onAnswered?.(record)
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
    serve(
      req,
      res,
      url,
      ids,
      () => (reset = true),
      (body) => (record.body = body),
    )
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

const matches = (path: string, match: PathMatch): boolean =>
  typeof match === 'string' ? path === match : match.test(path)

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
