// The Microsoft Graph stand-in for the registration tools (register, doctor, insights): the shared
// core (graph-stand-in/core.ts: the token, faults, bodies, errors with request ids, query options)
// composed with one module per resource, all keeping one tenant in memory (`state`, which tests
// may replace or mutate to seed misconfigurations):
//   graph-stand-in/organization.ts            GET /v1.0/organization (tenantId, tenantType)
//   graph-stand-in/applications.ts            applications (uniqueName upsert), extensionProperties
//   graph-stand-in/service-principals.ts      servicePrincipals, appRoleAssignments
//   graph-stand-in/claims-mapping-policies.ts claimsMappingPolicies and their $ref assignments
//   graph-stand-in/authentication-events.ts   customAuthenticationExtensions (and
//                                             validateAuthenticationConfiguration), listeners
//   graph-stand-in/sign-in-logs.ts            GET /beta/auditLogs/signIns (the seeded sign-ins)
// Each API version has its own schema (graph-stand-in/entra-schema.ts): beta-only properties and
// types are refused on /v1.0 and left out of its answers. Paths are URL-decoded before routing;
// `(appId='…')` / `(uniqueName='…')` are alternate keys. Only tokens for this origin are accepted.
// Order of checks: throttleNext (429, before the token), the bearer token (401), `denied` (403),
// the body (at most 1 MiB of JSON with an application/json content type), then the route. Every
// request is recorded in `requests` when its answer has been sent.
import {
  unknownSegment,
  type EntraGraphState,
  type GraphObject as DirectoryObject,
} from './graph-stand-in/directory.js'
import { applicationsResource } from './graph-stand-in/applications.js'
import { authenticationEventsResource } from './graph-stand-in/authentication-events.js'
import { claimsMappingPoliciesResource } from './graph-stand-in/claims-mapping-policies.js'
import { startGraphStandIn } from './graph-stand-in/core.js'
import { GraphStandInError } from './graph-stand-in/graph-answers.js'
import { organizationResource } from './graph-stand-in/organization.js'
import { servicePrincipalsResource } from './graph-stand-in/service-principals.js'
import { signInLogsResource, type SignInRecord } from './graph-stand-in/sign-in-logs.js'
import type { TokenEndpointStandIn } from './token-endpoint.js'

export {
  AUTH_EVENTS_APP_ID,
  emptyEntraState,
  GRAPH_APP_ID,
  RECEIVE_PAYLOAD_ROLE_ID,
  type EntraGraphState,
  type GraphObject,
} from './graph-stand-in/directory.js'
export { SIGN_IN_AUDIENCES } from './graph-stand-in/entra-schema.js'

export interface RecordedGraphRequest {
  method: string
  /** URL-decoded, without the query. */
  path: string
  /** The raw query string, without '?'. */
  query: string
  status: number
  /** The parsed JSON body of a request other than GET. */
  body?: unknown
  /** The Prefer header, when the request had one. */
  prefer?: string
}

export interface EntraGraphStandIn {
  /** GRAPH_BASE_URL: https://127.0.0.1:<port> */
  readonly origin: string
  state: EntraGraphState
  /** Page size of lists without $top (100 unless set). */
  pageSize: number
  /**
   * Answered 403 Authorization_RequestDenied: "METHOD /path" for one method or "/path" for any,
   * each a prefix of the URL-decoded path (e.g. "POST /v1.0/identity/customAuthenticationExtensions").
   */
  readonly denied: Set<string>
  /**
   * The next `count` requests (to `path` only, when given) answer 429 TooManyRequests with
   * Retry-After (0 unless given).
   */
  throttleNext(count: number, retryAfterSeconds?: number, path?: string): void
  readonly requests: RecordedGraphRequest[]
  /** Requests other than GET (what a second idempotent run must not make). */
  writes(): RecordedGraphRequest[]
  close(): Promise<void>
}

export async function startEntraGraphServer(options: {
  readonly tokens: TokenEndpointStandIn
  readonly state: EntraGraphState
}): Promise<EntraGraphStandIn> {
  let pageSize = 100
  const denied = new Set<string>()
  const requests: RecordedGraphRequest[] = []
  const context = { tenant: () => stand.state, pageSize: () => pageSize }
  const isSignIn = (s: DirectoryObject): s is DirectoryObject & SignInRecord =>
    typeof s.createdDateTime === 'string'
  const logs = signInLogsResource({ source: () => stand.state.signIns.filter(isSignIn) })
  const isDenied = (method: string, path: string) =>
    [...denied].some((entry) => {
      const spaced = /^([A-Z]+) (\/.*)$/.exec(entry)
      if (spaced === null) return path.startsWith(entry)
      return spaced[1] === method && path.startsWith(spaced[2] ?? '')
    })
  const core = await startGraphStandIn({
    tokens: options.tokens,
    resources: [
      organizationResource(() => ({
        tenantId: stand.state.tenantId,
        tenantType: stand.state.tenantType,
        displayName: 'Contoso',
      })),
      applicationsResource(context),
      servicePrincipalsResource(context),
      claimsMappingPoliciesResource(context),
      authenticationEventsResource(context),
      logs,
    ],
    faultsBeforeToken: true,
    ownOriginOnly: true,
    decodePath: true,
    unknownSegment,
    authorize: (method, path) =>
      isDenied(method, path)
        ? new GraphStandInError(
            403,
            'Authorization_RequestDenied',
            'Insufficient privileges to complete the operation.',
          )
        : undefined,
    onAnswered(request) {
      let path = request.path
      try {
        path = request.path.split('/').map(decodeURIComponent).join('/')
      } catch {
        // recorded as requested
      }
      const prefer = request.headers.prefer
      requests.push({
        method: request.method,
        path,
        query: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '',
        status: request.status ?? 0,
        ...(request.method !== 'GET' && request.body !== undefined ? { body: request.body } : {}),
        ...(typeof prefer === 'string' ? { prefer } : {}),
      })
    },
  })

  const stand: EntraGraphStandIn = {
    origin: core.origin,
    state: options.state,
    get pageSize() {
      return pageSize
    },
    set pageSize(size) {
      pageSize = size
      logs.pageSize = size
    },
    denied,
    throttleNext(count, retryAfterSeconds = 0, path) {
      core.clearFaults()
      if (count > 0)
        core.fault({
          status: 429,
          retryAfterSeconds,
          times: count,
          ...(path === undefined ? {} : { path }),
        })
    },
    requests,
    writes() {
      return requests.filter((r) => r.method !== 'GET')
    },
    close: () => core.close(),
  }
  return stand
}
