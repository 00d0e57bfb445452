// An HTTPS stand-in for Microsoft Graph v1.0 on loopback, for the users it is seeded with: the
// endpoint's claims source reads them (graph-stand-in/user-relations.ts, on the shared core in
// graph-stand-in/core.ts: token check, faults, Graph errors, request records). Every request
// needs `Authorization: Bearer <an access token from the token-endpoint stand-in for
// https://graph.microsoft.com or this origin>` (401 otherwise).
//   GET /v1.0/users/{id | userPrincipalName}                  $select
//   GET /v1.0/users/{id}/memberOf[/microsoft.graph.group]     $select, $top, paged by @odata.nextLink
//   GET /v1.0/users/{id}/transitiveMemberOf[/microsoft.graph.group]
//   GET /v1.0/users/{id}/manager                              $select; 404 when there is none
// $filter, $search, $orderby, $expand, $count and $skip answer 400 Request_UnsupportedQuery.
// Faults are injected per path (or on every path) for the next N requests or always, and answer
// before the token is checked; every request is recorded, with whether it was answered or
// abandoned by the client.
import {
  startGraphStandIn,
  type GraphFault as CoreFault,
  type PathMatch,
  type RecordedGraphRequest,
} from './graph-stand-in/core.js'
import {
  userRelationsResource,
  type DirectoryObject,
  type UserProperties,
  type UserRelations,
} from './graph-stand-in/user-relations.js'
import type { TokenEndpointStandIn } from './token-endpoint.js'

export type { PathMatch } from './graph-stand-in/core.js'
export type {
  DirectoryObject,
  UserProperties,
  UserRelations,
} from './graph-stand-in/user-relations.js'

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

export interface FaultOptions {
  /** Which requests: every one unless given. */
  readonly path?: PathMatch
  /** How many of them: all from now on unless given. */
  readonly times?: number
}

export type GraphRequest = RecordedGraphRequest

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

function toCoreFault(fault: GraphFault): CoreFault {
  switch (fault.kind) {
    case 'status':
      return {
        status: fault.status,
        code: fault.code,
        message: fault.message,
        retryAfterSeconds: fault.retryAfterSeconds,
      }
    case 'slow':
      return { delayMs: fault.delayMs }
    case 'hang':
      return { hang: true }
    case 'reset':
      return { reset: true }
  }
}

const matches = (path: string, match: PathMatch | undefined): boolean =>
  match === undefined || (typeof match === 'string' ? path === match : match.test(path))

export async function startGraph(options: GraphOptions): Promise<GraphStandIn> {
  const users = userRelationsResource({ pageSize: options.pageSize })
  const core = await startGraphStandIn({
    tokens: options.tokens,
    resources: [users],
    faultsBeforeToken: true,
  })
  return {
    origin: core.origin,
    get pageSize() {
      return users.pageSize
    },
    set pageSize(size) {
      users.pageSize = size
    },
    addUser: (properties, relations) => users.addUser(properties, relations),
    requests: core.requests,
    hits: (path) => core.requests.filter((r) => matches(r.path, path)).length,
    fault(fault, { path, times = Number.POSITIVE_INFINITY } = {}) {
      core.fault({ ...toCoreFault(fault), ...(path === undefined ? {} : { path }), times })
    },
    clearFaults: () => core.clearFaults(),
    reset: () => core.reset(),
    close: () => core.close(),
  }
}
