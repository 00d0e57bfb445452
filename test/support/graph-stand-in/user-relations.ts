// Graph v1.0 users as the endpoint's claims source reads them, for the stand-in core: seeded with
// any properties (directory extensions extension_<appId>_<name> included) and relations.
//   GET /v1.0/users/{id | userPrincipalName}                  $select
//   GET /v1.0/users/{id}/memberOf[/microsoft.graph.group]     $select, $top, paged by @odata.nextLink
//   GET /v1.0/users/{id}/transitiveMemberOf[/microsoft.graph.group]
//   GET /v1.0/users/{id}/manager                              $select; 404 when there is none
// $filter, $search, $orderby, $expand, $count and $skip answer 400 Request_UnsupportedQuery, so
// that a caller relying on one fails here rather than passing against a stand-in that ignored it.
import {
  GraphStandInError,
  selection,
  type GraphAnswer,
  type GraphResource,
} from './graph-answers.js'

/** A directory object as memberOf lists it: a group, a directoryRole, an administrativeUnit… */
export interface DirectoryObject {
  readonly '@odata.type': string
  readonly id: string
  readonly [property: string]: unknown
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

export interface UserRelationsResource extends GraphResource {
  /** memberOf page size when the caller sends no $top (Graph's is 100). */
  pageSize: number
  addUser(properties: UserProperties, relations?: UserRelations): void
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
const UNSUPPORTED = ['$filter', '$search', '$orderby', '$expand', '$count', '$skip']

interface Seeded {
  readonly properties: UserProperties
  readonly relations: UserRelations
}

/** The value of `name` on `object`, matched without regard to case as Graph does. */
const property = (object: object, name: string): [string, unknown] | undefined => {
  const lower = name.toLowerCase()
  return Object.entries(object).find(([key]) => key.toLowerCase() === lower)
}

function projectUser(user: UserProperties, select: string[] | undefined) {
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

function projectObject(object: DirectoryObject, select: string[] | undefined) {
  if (select === undefined) return { ...object }
  const out: Record<string, unknown> = { '@odata.type': object['@odata.type'], id: object.id }
  for (const name of select) {
    const found = property(object, name)
    if (found !== undefined) out[found[0]] = found[1]
  }
  return out
}

function encodeSkiptoken(offset: number): string {
  return Buffer.from(`RFNwdAoA:${offset}`).toString('base64url')
}

function decodeSkiptoken(token: string): number {
  const match = /^RFNwdAoA:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
  if (match?.[1] === undefined)
    throw new GraphStandInError(400, 'Request_BadRequest', 'Invalid $skiptoken.')
  return Number(match[1])
}

export function userRelationsResource(options: { readonly pageSize?: number } = {}) {
  const users = new Map<string, Seeded>() // by lower-cased id and userPrincipalName

  const findUser = (idOrUpn: string): Seeded => {
    const user = users.get(idOrUpn.toLowerCase())
    if (user === undefined) {
      throw new GraphStandInError(
        404,
        'Request_ResourceNotFound',
        `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
      )
    }
    return user
  }

  const page = (
    origin: string,
    path: string,
    query: URLSearchParams,
    objects: readonly DirectoryObject[],
    cast: string | undefined,
  ): GraphAnswer => {
    const top = query.get('$top')
    const size = top === null ? resource.pageSize : Number(top)
    if (!Number.isInteger(size) || size < 1 || size > 999) {
      throw new GraphStandInError(
        400,
        'Request_BadRequest',
        `Invalid page size specified: '${top}'.`,
      )
    }
    const skiptoken = query.get('$skiptoken')
    const offset = skiptoken === null ? 0 : decodeSkiptoken(skiptoken)
    const listed =
      cast === undefined ? objects : objects.filter((o) => o['@odata.type'] === `#${cast}`)
    const value = listed.slice(offset, offset + size).map((o) => projectObject(o, selection(query)))
    const body: Record<string, unknown> = {
      '@odata.context': `${origin}/v1.0/$metadata#${cast === undefined ? 'directoryObjects' : `${cast.replace('microsoft.graph.', '')}s`}`,
    }
    if (offset + size < listed.length) {
      const next = [...query].filter(([name]) => name !== '$skiptoken')
      next.push(['$skiptoken', encodeSkiptoken(offset + size)])
      const search = next.map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2C/g, ',')}`)
      body['@odata.nextLink'] = `${origin}${path}?${search.join('&')}`
    }
    body.value = value
    return { status: 200, body }
  }

  const resource: UserRelationsResource = {
    pageSize: options.pageSize ?? 100,
    addUser(properties, relations = {}) {
      const seeded = { properties, relations }
      users.set(properties.id.toLowerCase(), seeded)
      if (properties.userPrincipalName !== undefined) {
        users.set(properties.userPrincipalName.toLowerCase(), seeded)
      }
    },
    routes: [
      {
        method: 'GET',
        path: /^\/v1\.0\/users\/([^/]+)(?:\/(memberOf|transitiveMemberOf|manager)(?:\/(microsoft\.graph\.[A-Za-z]+))?)?\/?$/i,
        unsupportedQuery: UNSUPPORTED,
        answer(call, match, origin) {
          const [, rawId = '', relation, cast] = match
          const user = findUser(decodeURIComponent(rawId))
          const select = selection(call.query)
          switch (relation?.toLowerCase()) {
            case undefined: {
              const columns = select === undefined ? '' : `(${[...select, 'id'].join(',')})`
              return {
                status: 200,
                body: {
                  '@odata.context': `${origin}/v1.0/$metadata#users${columns}/$entity`,
                  ...projectUser(user.properties, select),
                },
              }
            }
            case 'memberof':
              return page(origin, call.path, call.query, user.relations.memberOf ?? [], cast)
            case 'transitivememberof':
              return page(
                origin,
                call.path,
                call.query,
                user.relations.transitiveMemberOf ?? user.relations.memberOf ?? [],
                cast,
              )
            case 'manager': {
              const manager =
                user.relations.manager === undefined
                  ? undefined
                  : users.get(user.relations.manager.toLowerCase())
              if (manager === undefined) {
                throw new GraphStandInError(
                  404,
                  'Request_ResourceNotFound',
                  "Resource 'manager' does not exist or one of its queried reference-property objects are not present.",
                )
              }
              return {
                status: 200,
                body: {
                  '@odata.context': `${origin}/v1.0/$metadata#directoryObjects/$entity`,
                  '@odata.type': '#microsoft.graph.user',
                  ...projectUser(manager.properties, select),
                },
              }
            }
            default:
              throw new GraphStandInError(400, 'BadRequest', `Unknown segment '${relation}'.`)
          }
        },
      },
    ],
  }
  return resource
}
