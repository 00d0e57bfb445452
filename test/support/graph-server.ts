// An HTTPS stand-in for Microsoft Graph v1.0 on loopback (trusted through the test CA: see
// test-ca.ts), for the users it is seeded with. Every request needs `Authorization: Bearer <an
// access token from the token-endpoint stand-in for https://graph.microsoft.com>` (401 otherwise).
//   GET /v1.0/users/{id | userPrincipalName}                  $select
//   GET /v1.0/users/{id}/memberOf[/microsoft.graph.group]     $select, $top, paged by @odata.nextLink
//   GET /v1.0/users/{id}/transitiveMemberOf[/microsoft.graph.group]
//   GET /v1.0/users/{id}/manager                              $select; 404 when there is none
// Other system query options ($filter, $expand, $count, …) answer 400 Request_UnsupportedQuery,
// so that a caller relying on one fails here rather than passing against a stand-in that ignored it.
// Faults are injected per path (or on every path) for the next N requests or always; every request
// is recorded, with whether it was answered or abandoned by the client.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { testTls } from './test-ca.js'
import { GRAPH_RESOURCE, type TokenEndpointStandIn } from './token-endpoint.js'
import { heldAnswers } from './held-answers.js'

/** A directory object as memberOf lists it: a group, a directoryRole, an administrativeUnit… */
export interface DirectoryObject {
  readonly '@odata.type': string
  readonly id: string
  readonly [property: string]: unknown
}

export function group(id: string, displayName: string, more: object = {}): DirectoryObject {
  return {
    '@odata.type': '#microsoft.graph.group',
    id,
    displayName,
    securityEnabled: true,
    mailEnabled: false,
    groupTypes: [],
    ...more,
  }
}

export function directoryRole(id: string, displayName: string, more: object = {}): DirectoryObject {
  return { '@odata.type': '#microsoft.graph.directoryRole', id, displayName, ...more }
}

/** A user's properties: any Graph user property, and directory extensions extension_<appId>_<name>. */
export interface UserProperties {
  readonly id: string
  readonly userPrincipalName?: string
  readonly [property: string]: unknown
}

export interface UserRelations {
  readonly memberOf?: readonly DirectoryObject[]
  /** Defaults to memberOf. */
  readonly transitiveMemberOf?: readonly DirectoryObject[]
  /** The manager's id: a user seeded too (or not: then /manager answers 404, as Graph does). */
  readonly manager?: string
}

export type GraphFault =
  /**
   * Answers this status with a Graph error body. The code defaults by status (401
   * InvalidAuthenticationToken, 403 Authorization_RequestDenied, 404 Request_ResourceNotFound,
   * 429 TooManyRequests, 500 UnknownError, 503 ServiceNotAvailable); Retry-After is sent when
   * retryAfterSeconds is given, and for 429 always (1 unless given).
   */
  | {
      readonly kind: 'status'
      readonly status: number
      readonly code?: string
      readonly message?: string
      readonly retryAfterSeconds?: number
    }
  /** Answers normally after delayMs. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Never answers; close() ends the connection. */
  | { readonly kind: 'hang' }
  /** Drops the connection without answering. */
  | { readonly kind: 'reset' }

/** A request path (without its query), exactly, or a pattern for it. */
export type PathMatch = string | RegExp

export interface FaultOptions {
  /** Which requests: every one unless given. */
  readonly path?: PathMatch
  /** How many of them: all from now on unless given. */
  readonly times?: number
}

export interface GraphRequest {
  readonly method: string
  /** The path without the query, e.g. /v1.0/users/…/memberOf */
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
}

export interface GraphOptions {
  /** The token endpoint whose access tokens are accepted. */
  readonly tokens: TokenEndpointStandIn
  /** memberOf page size when the caller sends no $top (Graph's is 100). */
  readonly pageSize?: number
}

export interface GraphStandIn {
  /** GRAPH_BASE_URL: https://127.0.0.1:<port> (requests go to ${origin}/v1.0/…). */
  readonly origin: string
  pageSize: number
  addUser(properties: UserProperties, relations?: UserRelations): void
  /** Every request, in order, answered or not. */
  readonly requests: GraphRequest[]
  /** How many requests arrived (on `path` when given). */
  hits(path?: PathMatch): number
  fault(fault: GraphFault, options?: FaultOptions): void
  clearFaults(): void
  /** Forgets the requests and the faults (not the users). */
  reset(): void
  close(): Promise<void>
}

/** The properties GET /users/{id} returns without $select. */
const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
]
const UNSUPPORTED_OPTIONS = ['$filter', '$search', '$orderby', '$expand', '$count', '$skip']
const DEFAULT_CODES: Record<number, [string, string]> = {
  400: ['Request_BadRequest', 'Invalid request.'],
  401: ['InvalidAuthenticationToken', 'Access token validation failure.'],
  403: ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'],
  404: [
    'Request_ResourceNotFound',
    'Resource does not exist or one of its queried reference-property objects are not present.',
  ],
  429: ['TooManyRequests', 'Too many requests.'],
  500: ['UnknownError', 'An unknown error occurred.'],
  503: ['ServiceNotAvailable', 'The service is temporarily unavailable.'],
}
const JSON_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'

class GraphError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

interface Rule {
  readonly fault: GraphFault
  readonly path: PathMatch | undefined
  remaining: number
}

interface Seeded {
  readonly properties: UserProperties
  readonly relations: UserRelations
}

const matches = (path: string, match: PathMatch | undefined): boolean =>
  match === undefined || (typeof match === 'string' ? path === match : match.test(path))

export async function startGraph(options: GraphOptions): Promise<GraphStandIn> {
  const tls = await testTls()
  const users = new Map<string, Seeded>() // by lower-cased id and userPrincipalName
  const rules: Rule[] = []
  const requests: GraphRequest[] = []
  const held = heldAnswers() // slow or hanging answers: ended by close()

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    res.writeHead(status, { 'content-type': JSON_TYPE, ...headers }).end(JSON.stringify(body))
  }

  const sendError = (
    res: ServerResponse,
    error: GraphError,
    headers: Record<string, string> = {},
  ) => {
    const requestId = String(res.getHeader('request-id'))
    send(
      res,
      error.status,
      {
        error: {
          code: error.code,
          message: error.message,
          innerError: {
            date: new Date().toISOString().replace(/\.\d+Z$/, ''),
            'request-id': requestId,
            'client-request-id': String(res.getHeader('client-request-id')),
          },
        },
      },
      headers,
    )
  }

  const faultError = (fault: Extract<GraphFault, { kind: 'status' }>) => {
    const [code, message] = DEFAULT_CODES[fault.status] ??
      (fault.status < 500 ? DEFAULT_CODES[400] : DEFAULT_CODES[500]) ?? ['UnknownError', '']
    return new GraphError(fault.status, fault.code ?? code, fault.message ?? message)
  }

  const findUser = (idOrUpn: string): Seeded => {
    const user = users.get(idOrUpn.toLowerCase())
    if (user === undefined) {
      throw new GraphError(
        404,
        'Request_ResourceNotFound',
        `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
      )
    }
    return user
  }

  /** $select, parsed: undefined when absent. */
  const selection = (query: URLSearchParams): string[] | undefined => {
    const select = query.get('$select')
    if (select === null) return undefined
    return select
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '')
  }

  /** The value of `name` on `object`, matched without regard to case as Graph does. */
  const property = (object: object, name: string): [string, unknown] | undefined => {
    const lower = name.toLowerCase()
    return Object.entries(object).find(([key]) => key.toLowerCase() === lower)
  }

  const projectUser = (user: UserProperties, select: string[] | undefined) => {
    const out: Record<string, unknown> = {}
    for (const name of select ?? DEFAULT_USER_PROPERTIES) {
      const found = property(user, name)
      if (found !== undefined) out[found[0]] = found[1]
      else if (!name.toLowerCase().startsWith('extension_')) {
        out[name] = name === 'businessPhones' ? [] : null // unset extensions are left out
      }
    }
    out.id = user.id
    return out
  }

  const projectObject = (object: DirectoryObject, select: string[] | undefined) => {
    if (select === undefined) return { ...object }
    const out: Record<string, unknown> = { '@odata.type': object['@odata.type'], id: object.id }
    for (const name of select) {
      const found = property(object, name)
      if (found !== undefined) out[found[0]] = found[1]
    }
    return out
  }

  const page = (
    res: ServerResponse,
    url: URL,
    objects: readonly DirectoryObject[],
    cast: string | undefined,
  ) => {
    const query = url.searchParams
    const top = query.get('$top')
    const size = top === null ? state.pageSize : Number(top)
    if (!Number.isInteger(size) || size < 1 || size > 999) {
      throw new GraphError(400, 'Request_BadRequest', `Invalid page size specified: '${top}'.`)
    }
    const skiptoken = query.get('$skiptoken')
    const offset = skiptoken === null ? 0 : decodeSkiptoken(skiptoken)
    const listed =
      cast === undefined ? objects : objects.filter((o) => o['@odata.type'] === `#${cast}`)
    const value = listed.slice(offset, offset + size).map((o) => projectObject(o, selection(query)))
    const body: Record<string, unknown> = {
      '@odata.context': `${state.origin}/v1.0/$metadata#${cast === undefined ? 'directoryObjects' : `${cast.replace('microsoft.graph.', '')}s`}`,
    }
    if (offset + size < listed.length) {
      const next = [...query].filter(([name]) => name !== '$skiptoken')
      next.push(['$skiptoken', encodeSkiptoken(offset + size)])
      const search = next.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/g, ',')}`)
      body['@odata.nextLink'] = `${state.origin}${url.pathname}?${search.join('&')}`
    }
    body.value = value
    send(res, 200, body)
  }

  const route = (res: ServerResponse, method: string, url: URL) => {
    for (const name of UNSUPPORTED_OPTIONS) {
      if (url.searchParams.has(name)) {
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          `The Graph stand-in does not implement ${name}.`,
        )
      }
    }
    const match =
      /^\/v1\.0\/users\/([^/]+)(?:\/(memberOf|transitiveMemberOf|manager)(?:\/(microsoft\.graph\.[A-Za-z]+))?)?\/?$/i.exec(
        url.pathname,
      )
    if (match === null) {
      throw new GraphError(
        400,
        'BadRequest',
        `Resource not found for the segment '${url.pathname}'.`,
      )
    }
    if (method !== 'GET') {
      throw new GraphError(405, 'Request_BadRequest', `The stand-in answers GET only.`)
    }
    const [, rawId = '', relation, cast] = match
    const user = findUser(decodeURIComponent(rawId))
    const select = selection(url.searchParams)
    switch (relation?.toLowerCase()) {
      case undefined: {
        const columns = select === undefined ? '' : `(${[...select, 'id'].join(',')})`
        send(res, 200, {
          '@odata.context': `${state.origin}/v1.0/$metadata#users${columns}/$entity`,
          ...projectUser(user.properties, select),
        })
        return
      }
      case 'memberof':
        page(res, url, user.relations.memberOf ?? [], cast)
        return
      case 'transitivememberof':
        page(res, url, user.relations.transitiveMemberOf ?? user.relations.memberOf ?? [], cast)
        return
      case 'manager': {
        const manager =
          user.relations.manager === undefined
            ? undefined
            : users.get(user.relations.manager.toLowerCase())
        if (manager === undefined) {
          throw new GraphError(
            404,
            'Request_ResourceNotFound',
            "Resource 'manager' does not exist or one of its queried reference-property objects are not present.",
          )
        }
        send(res, 200, {
          '@odata.context': `${state.origin}/v1.0/$metadata#directoryObjects/$entity`,
          '@odata.type': '#microsoft.graph.user',
          ...projectUser(manager.properties, select),
        })
        return
      }
      default:
        throw new GraphError(400, 'BadRequest', `Unknown segment '${relation}'.`)
    }
  }

  /** Checks the bearer token, then answers. */
  const answer = async (
    res: ServerResponse,
    method: string,
    url: URL,
    authorization: string | undefined,
  ) => {
    const token = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1]
    if (token === undefined) {
      throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.')
    }
    // Graph accepts tokens for its own origin (a national cloud's https://graph.microsoft.us, or
    // this stand-in's https://127.0.0.1:<port>, which is what GRAPH_BASE_URL makes the product
    // ask for) as well as for the public cloud's resource.
    const own = await options.tokens.verifyAccessToken(token, state.origin)
    const check = own.ok ? own : await options.tokens.verifyAccessToken(token, GRAPH_RESOURCE)
    if (!check.ok) {
      throw new GraphError(
        401,
        'InvalidAuthenticationToken',
        `Access token validation failure: ${check.reason}`,
      )
    }
    route(res, method, url)
  }

  const handle = (
    res: ServerResponse,
    method: string,
    url: URL,
    authorization: string | undefined,
  ) => {
    answer(res, method, url, authorization).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return
      if (error instanceof GraphError) {
        const headers: Record<string, string> =
          error.status === 401
            ? {
                'www-authenticate': `Bearer realm="", authorization_uri="${options.tokens.authorityHost}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
              }
            : {}
        sendError(res, error, headers)
      } else sendError(res, new GraphError(500, 'UnknownError', String(error)))
    })
  }

  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', state.origin)
    const method = req.method ?? ''
    let reset = false
    const record = {
      method,
      path: url.pathname,
      query: url.searchParams,
      url: req.url ?? '',
      headers: req.headers,
      status: undefined as number | undefined,
      aborted: false,
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
    req.resume() // GETs: nothing to read
    const clientRequestId = req.headers['client-request-id']
    res.setHeader('request-id', randomUUID())
    res.setHeader(
      'client-request-id',
      typeof clientRequestId === 'string' ? clientRequestId : randomUUID(),
    )

    const rule = rules.find((r) => r.remaining > 0 && matches(url.pathname, r.path))
    if (rule !== undefined) rule.remaining -= 1
    const fault = rule?.fault
    switch (fault?.kind) {
      case undefined:
        handle(res, method, url, req.headers.authorization)
        return
      case 'status': {
        const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined)
        sendError(
          res,
          faultError(fault),
          retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
        )
        return
      }
      case 'slow':
        held.later(res, fault.delayMs, () => handle(res, method, url, req.headers.authorization))
        return
      case 'hang':
        held.hang(res)
        return
      case 'reset':
        reset = true
        res.socket?.destroy()
        return
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

  const state: GraphStandIn = {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pageSize: options.pageSize ?? 100,
    addUser(properties, relations = {}) {
      const seeded = { properties, relations }
      users.set(properties.id.toLowerCase(), seeded)
      if (properties.userPrincipalName !== undefined) {
        users.set(properties.userPrincipalName.toLowerCase(), seeded)
      }
    },
    requests,
    hits(path) {
      return requests.filter((r) => matches(r.path, path)).length
    },
    fault(fault, { path, times = Number.POSITIVE_INFINITY } = {}) {
      rules.push({ fault, path, remaining: times })
    },
    clearFaults() {
      rules.length = 0
    },
    reset() {
      rules.length = 0
      requests.length = 0
    },
    close() {
      held.close()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return state
}

function encodeSkiptoken(offset: number): string {
  return Buffer.from(`RFNwdAoA:${offset}`).toString('base64url')
}

function decodeSkiptoken(token: string): number {
  const match = /^RFNwdAoA:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
  if (match?.[1] === undefined) {
    throw new GraphError(400, 'Request_BadRequest', 'Invalid $skiptoken.')
  }
  return Number(match[1])
}
