// What the stand-in's directory resources (applications.ts, service-principals.ts,
// authentication-events.ts, on the core in core.ts) share: the tenant they keep in memory (which
// tests may replace or mutate to seed misconfigurations), Graph's errors for them, and Graph's
// entity and list answers: `@odata.context`, $select, a $filter of `property eq 'value'` clauses
// (and `createdDateTime ge|lt <date-time>`) joined by "and", paged as graph-answers.ts pages.
import { randomUUID } from 'node:crypto'
import { GraphStandInError, page, type GraphAnswer, type GraphCall } from './graph-answers.js'

/** The first-party app that calls custom authentication extensions ("Azure AD authentication events"). */
export const AUTH_EVENTS_APP_ID = '99045fe1-7639-4a75-9d4a-577b6ca3810f'
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
/** Graph's app role CustomAuthenticationExtension.Receive.Payload. */
export const RECEIVE_PAYLOAD_ROLE_ID = '214e810f-fda8-4fd7-a475-29461495eb00'

export interface GraphObject {
  id: string
  [property: string]: unknown
}

export interface EntraGraphState {
  tenantId: string
  /** What GET /organization answers: 'CIAM' for an External ID tenant. */
  tenantType: 'AAD' | 'CIAM'
  /**
   * id, appId, displayName, uniqueName?, signInAudience? (answered as AzureADMyOrg when absent),
   * identifierUris[], api{}, requiredResourceAccess[]
   */
  applications: GraphObject[]
  /** id, appId, displayName, accountEnabled, appRoles[] */
  servicePrincipals: GraphObject[]
  /** id, principalId, resourceId, appRoleId */
  appRoleAssignments: GraphObject[]
  /** customAuthenticationExtensions, with their @odata.type */
  extensions: GraphObject[]
  /** authenticationEventListeners, with their @odata.type */
  listeners: GraphObject[]
  /** id, displayName, definition: string[], isOrganizationDefault */
  claimsMappingPolicies: GraphObject[]
  policyAssignments: { servicePrincipalId: string; policyId: string }[]
  /** Sign-in records (id, createdDateTime, appliedEventListeners), for GET /beta/auditLogs/signIns. */
  signIns: GraphObject[]
  /** Directory extension properties: id, appObjectId (the application's id), name, dataType, targetObjects */
  extensionProperties: GraphObject[]
}

/** A tenant with nothing registered: only Microsoft Graph's service principal, as every tenant has. */
export function emptyEntraState(
  tenantId: string,
  tenantType: 'AAD' | 'CIAM' = 'AAD',
): EntraGraphState {
  return {
    tenantId,
    tenantType,
    applications: [],
    servicePrincipals: [
      {
        id: randomUUID(),
        appId: GRAPH_APP_ID,
        displayName: 'Microsoft Graph',
        accountEnabled: true,
        servicePrincipalType: 'Application',
        appRoles: [
          {
            id: RECEIVE_PAYLOAD_ROLE_ID,
            value: 'CustomAuthenticationExtension.Receive.Payload',
            allowedMemberTypes: ['Application'],
            displayName: 'Receive custom authentication extension HTTP requests',
            description:
              'Allows custom authentication extensions associated with the app to receive HTTP requests triggered by an authentication event.',
            isEnabled: true,
            origin: 'Application',
          },
        ],
      },
    ],
    appRoleAssignments: [],
    extensions: [],
    listeners: [],
    claimsMappingPolicies: [],
    policyAssignments: [],
    signIns: [],
    extensionProperties: [],
  }
}

/** What a directory resource reads its tenant and page size from (they may be replaced). */
export interface DirectoryContext {
  readonly tenant: () => EntraGraphState
  readonly pageSize: () => number
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const RESOURCE_ID =
  /^api:\/\/([^/]+)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i

export const bad = (message: string, code = 'Request_BadRequest') =>
  new GraphStandInError(400, code, message)
export const notFound = (key: string) =>
  new GraphStandInError(
    404,
    'Request_ResourceNotFound',
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
  )
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
export const same = (a: unknown, b: unknown) =>
  typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase()
export const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) throw bad('Empty Payload. JSON content expected.', 'BadRequest')
  if (!isRecord(body)) throw bad('The request body must be a JSON object.', 'BadRequest')
  return body
}

export function readOnly(
  body: Record<string, unknown>,
  current: GraphObject | undefined,
  names: string[],
) {
  for (const name of names) {
    if (body[name] !== undefined && (current === undefined || body[name] !== current[name]))
      throw bad(`Property '${name}' is read-only and cannot be set.`)
  }
}

export const byId = (items: readonly GraphObject[], id: string | undefined): GraphObject => {
  const found = items.find((o) => o.id === id)
  if (found === undefined) throw notFound(id ?? '')
  return found
}

/** Keeps, in place, the items that `keep` accepts. */
export const remove = <T>(items: T[], keep: (item: T) => boolean) => {
  const kept = items.filter(keep)
  items.splice(0, items.length, ...kept)
}

export const noContent: GraphAnswer = { status: 204 }

/** The query options of a GET of one object, and of a list. */
export const ENTITY_QUERY = ['$select'] as const
export const LIST_QUERY = ['$select', '$top', '$skiptoken', '$filter'] as const

/** Graph's $filter, as far as the stand-in goes: `property eq 'value'` clauses joined by "and". */
export function filterBy(
  items: readonly GraphObject[],
  filter: string | null,
): readonly GraphObject[] {
  if (filter === null) return items
  const clauses = filter.split(/\s+and\s+/i).map((clause) => {
    // A date-time range, as the sign-in logs take it: createdDateTime ge 2026-11-01T00:00:00Z
    const range = /^\s*([\w@.]+)\s+(ge|lt)\s+(\d{4}-\d{2}-\d{2}T[\d:.]+Z)\s*$/.exec(clause)
    if (range !== null) {
      const [, name = '', op, at = ''] = range
      const bound = Date.parse(at)
      return {
        test: (item: GraphObject) => {
          const value = Date.parse(String(item[name]))
          return op === 'ge' ? value >= bound : value < bound
        },
      }
    }
    const match =
      /^\s*([\w@.]+)\s+eq\s+(?:'((?:[^']|'')*)'|(true|false|null|-?\d+(?:\.\d+)?))\s*$/.exec(clause)
    if (match === null)
      throw bad(
        `The stand-in implements only "property eq 'value'" filters; got '${clause}'.`,
        'Request_UnsupportedQuery',
      )
    const [, name = '', text, literal] = match
    const value: unknown = text !== undefined ? text.replace(/''/g, "'") : JSON.parse(literal ?? '')
    return {
      test: (item: GraphObject) =>
        typeof value === 'string' ? same(item[name], value) : item[name] === value,
    }
  })
  return items.filter((item) => clauses.every(({ test }) => test(item)))
}

export function select(
  object: Record<string, unknown>,
  selectOption: string | null,
): Record<string, unknown> {
  const copy = structuredClone(object)
  if (selectOption === null) return copy
  const names = new Set(selectOption.split(',').map((s) => s.trim()))
  for (const key of Object.keys(copy)) {
    if (key !== 'id' && !key.startsWith('@odata.') && !names.has(key)) delete copy[key]
  }
  return copy
}

/** One object as Graph answers it: its @odata.context, the $select of a GET applied. */
export function entity(
  call: GraphCall,
  origin: string,
  object: Record<string, unknown>,
  fragment: string,
  status = 200,
): GraphAnswer {
  const selected = call.method === 'GET' ? call.query.get('$select') : null
  return {
    status,
    body: {
      '@odata.context': `${origin}/${call.version}/$metadata#${fragment}/$entity`,
      ...select(object, selected),
    },
  }
}

/** A collection as Graph answers it: filtered, each item $select-ed, one page of it. */
export function list(
  call: GraphCall,
  origin: string,
  items: readonly GraphObject[],
  fragment: string,
  pageSize: number,
): GraphAnswer {
  const chosen = filterBy(items, call.query.get('$filter')).map((o) =>
    select(o, call.query.get('$select')),
  )
  return page(call, origin, chosen, { pageSize, context: fragment })
}

/** A service principal's key in a path: /{id} or (appId='…'). */
export const SP_KEY = String.raw`(?:/([^/()]+)|\(appId='([^']*)'\))`
const KNOWN_SEGMENTS = new Set([
  'organization',
  'applications',
  'servicePrincipals',
  'appRoleAssignments',
  'claimsMappingPolicies',
  'policies',
  'identity',
  'customAuthenticationExtensions',
  'authenticationEventListeners',
  'validateAuthenticationConfiguration',
  'extensionProperties',
  '$ref',
])
const COLLECTIONS = new Set([
  'applications',
  'servicePrincipals',
  'appRoleAssignments',
  'claimsMappingPolicies',
  'customAuthenticationExtensions',
  'authenticationEventListeners',
  'extensionProperties',
])

/** The segment Graph would name for a path no route knows. */
export function unknownSegment(path: string): string {
  const [, , ...segments] = path.split('/')
  for (const [index, segment] of segments.entries()) {
    const name = segment.replace(/\(.*$/, '')
    if (KNOWN_SEGMENTS.has(name)) continue
    const previous = segments[index - 1]
    if (previous !== undefined && COLLECTIONS.has(previous)) continue
    return segment
  }
  return segments.at(-1) ?? ''
}
