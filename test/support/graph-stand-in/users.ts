// Graph v1.0 users for the stand-in core, as an External ID tenant holds local accounts:
//   POST /v1.0/users    201; the body is checked strictly against v1.0's user (the properties a
//                       create may write, typed from @microsoft/microsoft-graph-types), its
//                       identities, passwordProfile (Entra's complexity rule) and the directory
//                       extension properties the tenant declares (`extensionProperties`)
//   GET  /v1.0/users    $filter=identities/any(c:c/issuerAssignedId eq '…' and c/issuer eq '…')
//                       (either order), $select, $top, paged
//   GET  /v1.0/users/{id | userPrincipalName}   $select (extensions only when selected)
// Identities: signInType emailAddress (a valid address) or userName (letters, digits, - and _),
// issuerAssignedId at most 64 characters, issuer = the tenant's primary domain; an issuer and
// issuerAssignedId pair already held answers 400 "Another object with the same value for property
// identities already exists." Graph sets id, userPrincipalName (<id>@<primary domain>), the
// userPrincipalName identity and creationType LocalAccount itself: a body naming them is refused.
import { randomUUID } from 'node:crypto'
import type { ObjectIdentity, PasswordProfile, User } from '@microsoft/microsoft-graph-types'
import { meetsEntraPolicy } from '../../../src/passwords/strength.js'
import { GraphStandInError, page, selection, type GraphResource } from './graph-answers.js'

export type ExtensionDataType = 'Boolean' | 'String' | 'Integer'

/** A stored user: Graph's properties, the password given (for tests), and extension values. */
export type StoredUser = User & {
  readonly id: string
  readonly identities: ObjectIdentity[]
  readonly [extension: `extension_${string}`]: unknown
}

export interface UsersResource extends GraphResource {
  readonly users: StoredUser[]
  /** The user holding this identity (compared without regard to case, as Graph does). */
  byIdentity(issuer: string, issuerAssignedId: string): StoredUser | undefined
}

/** What POST /users may write here (a subset of v1.0's writable properties). */
const WRITABLE = [
  'accountEnabled',
  'displayName',
  'givenName',
  'surname',
  'mail',
  'identities',
  'passwordProfile',
  'passwordPolicies',
] as const satisfies readonly (keyof User)[]
const IDENTITY_KEYS = [
  'signInType',
  'issuer',
  'issuerAssignedId',
] as const satisfies readonly (keyof ObjectIdentity)[]
const PASSWORD_KEYS = [
  'password',
  'forceChangePasswordNextSignIn',
  'forceChangePasswordNextSignInWithMfa',
] as const satisfies readonly (keyof PasswordProfile)[]
const DEFAULT_SELECT = ['id', 'displayName', 'mail', 'userPrincipalName', 'identities'] as const
const EMAIL = /^[^\s@]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/
const FILTER =
  /^identities\/any\((\w+):\1\/(issuerAssignedId|issuer) eq '((?:[^']|'')*)' and \1\/(issuerAssignedId|issuer) eq '((?:[^']|'')*)'\)$/
const PASSWORD_REFUSED =
  'The specified password does not comply with password complexity requirements. Please provide a different password.'

const bad = (message: string) => new GraphStandInError(400, 'Request_BadRequest', message)
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const key = (issuer: string, id: string) => `${issuer.toLowerCase()}\n${id.toLowerCase()}`

export function usersResource(options: {
  /** The tenant's primary domain, e.g. contoso.onmicrosoft.com: the issuer of local identities. */
  readonly primaryDomain: string
  /** Directory extension properties, by full name (extension_<appId without dashes>_<name>). */
  readonly extensionProperties?: Readonly<Record<string, ExtensionDataType>>
  readonly pageSize?: number
}): UsersResource {
  const users: StoredUser[] = []
  const byId = new Map<string, StoredUser>()
  const byIdentity = new Map<string, StoredUser>()
  const extensions = options.extensionProperties ?? {}

  const checkIdentity = (value: unknown): ObjectIdentity => {
    if (!isObject(value)) throw bad('Each identity is an object.')
    for (const name of Object.keys(value))
      if (!(IDENTITY_KEYS as readonly string[]).includes(name))
        throw bad(`The property '${name}' does not exist on type 'microsoft.graph.objectIdentity'.`)
    const { signInType, issuer, issuerAssignedId } = value
    if (typeof signInType !== 'string' || typeof issuer !== 'string')
      throw bad('An identity needs signInType and issuer.')
    if (typeof issuerAssignedId !== 'string' || issuerAssignedId.length > 64)
      throw bad('issuerAssignedId is a string of at most 64 characters.')
    if (signInType === 'emailAddress' && !EMAIL.test(issuerAssignedId))
      throw bad('issuerAssignedId is not a valid email address.')
    if (signInType === 'userName' && !USER_NAME.test(issuerAssignedId))
      throw bad('issuerAssignedId has characters a userName cannot have.')
    if (signInType !== 'emailAddress' && signInType !== 'userName')
      throw bad(`The stand-in creates emailAddress and userName identities, not ${signInType}.`)
    if (issuer.toLowerCase() !== options.primaryDomain.toLowerCase())
      throw bad('The issuer of a local account identity must be a domain of the tenant.')
    return { signInType, issuer, issuerAssignedId }
  }

  const checkPasswordProfile = (value: unknown): PasswordProfile => {
    if (!isObject(value)) throw bad('passwordProfile is required.')
    for (const name of Object.keys(value))
      if (!(PASSWORD_KEYS as readonly string[]).includes(name))
        throw bad(
          `The property '${name}' does not exist on type 'microsoft.graph.passwordProfile'.`,
        )
    if (typeof value.password !== 'string') throw bad('passwordProfile.password is required.')
    if (!meetsEntraPolicy(value.password)) throw bad(PASSWORD_REFUSED)
    for (const flag of ['forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa'])
      if (value[flag] !== undefined && typeof value[flag] !== 'boolean')
        throw bad(`passwordProfile.${flag} is a boolean.`)
    return value
  }

  const create = (body: unknown): StoredUser => {
    if (!isObject(body)) throw bad('The body is a user object.')
    const extensionValues: Record<string, unknown> = {}
    for (const [name, value] of Object.entries(body)) {
      if ((WRITABLE as readonly string[]).includes(name)) continue
      const dataType = extensions[name]
      if (dataType === undefined)
        throw bad(`The property '${name}' does not exist on type 'microsoft.graph.user'.`)
      const ok =
        dataType === 'Boolean'
          ? typeof value === 'boolean'
          : dataType === 'Integer'
            ? Number.isInteger(value)
            : typeof value === 'string'
      if (!ok) throw bad(`The value of '${name}' is not a ${dataType}.`)
      extensionValues[name] = value
    }
    const { displayName, accountEnabled, mail, givenName, surname, passwordPolicies } = body
    if (typeof displayName !== 'string' || displayName.trim() === '' || displayName.length > 256)
      throw bad('displayName is a string of 1-256 characters.')
    for (const [name, value] of Object.entries({ mail, givenName, surname, passwordPolicies }))
      if (value !== undefined && typeof value !== 'string') throw bad(`${name} is a string.`)
    if (accountEnabled !== undefined && typeof accountEnabled !== 'boolean')
      throw bad('accountEnabled is a boolean.')
    if (!Array.isArray(body.identities) || body.identities.length === 0)
      throw bad('A local account needs identities.')
    const identities = body.identities.map(checkIdentity)
    const passwordProfile = checkPasswordProfile(body.passwordProfile)
    if (identities.some((i) => byIdentity.has(key(i.issuer ?? '', i.issuerAssignedId ?? ''))))
      throw bad('Another object with the same value for property identities already exists.')
    const id = randomUUID()
    const userPrincipalName = `${id}@${options.primaryDomain}`
    const user: StoredUser = {
      ...extensionValues,
      id,
      displayName,
      accountEnabled: accountEnabled ?? true,
      mail: (mail as string | undefined) ?? null,
      givenName: (givenName as string | undefined) ?? null,
      surname: (surname as string | undefined) ?? null,
      passwordPolicies: (passwordPolicies as string | undefined) ?? null,
      passwordProfile,
      userPrincipalName,
      creationType: 'LocalAccount',
      identities: [
        ...identities,
        {
          signInType: 'userPrincipalName',
          issuer: options.primaryDomain,
          issuerAssignedId: userPrincipalName,
        },
      ],
    }
    users.push(user)
    byId.set(id, user)
    byId.set(userPrincipalName.toLowerCase(), user)
    for (const i of identities) byIdentity.set(key(i.issuer ?? '', i.issuerAssignedId ?? ''), user)
    return user
  }

  const project = (user: StoredUser, select: readonly string[] | undefined) => {
    const out: Record<string, unknown> = {}
    for (const name of select ?? DEFAULT_SELECT) {
      const found = Object.entries(user).find(([k]) => k.toLowerCase() === name.toLowerCase())
      if (found !== undefined && found[0] !== 'passwordProfile') out[found[0]] = found[1]
      else if (!name.startsWith('extension_')) out[name] = null
    }
    out.id = user.id
    return out
  }

  return {
    users,
    byIdentity: (issuer, issuerAssignedId) => byIdentity.get(key(issuer, issuerAssignedId)),
    routes: [
      {
        method: 'POST',
        path: /^\/v1\.0\/users$/,
        answer(call, _match, origin) {
          const user = create(call.body)
          return {
            status: 201,
            headers: { location: `${origin}/v1.0/users/${user.id}` },
            body: {
              '@odata.context': `${origin}/v1.0/$metadata#users/$entity`,
              ...project(user, undefined),
            },
          }
        },
      },
      {
        method: 'GET',
        path: /^\/v1\.0\/users$/,
        query: ['$filter', '$select', '$top', '$skiptoken'],
        answer(call, _match, origin) {
          const filter = call.query.get('$filter')
          let listed: readonly StoredUser[] = users
          if (filter !== null) {
            const match = FILTER.exec(filter.trim())
            if (match === null || match[2] === match[4])
              throw new GraphStandInError(
                400,
                'Request_UnsupportedQuery',
                'The stand-in filters users on identities/any(c:c/issuerAssignedId eq … and c/issuer eq …).',
              )
            const values = { [match[2]!]: match[3]!, [match[4]!]: match[5]! }
            const unquote = (s: string) => s.replaceAll("''", "'")
            const found = byIdentity.get(
              key(unquote(values.issuer ?? ''), unquote(values.issuerAssignedId ?? '')),
            )
            listed = found === undefined ? [] : [found]
          }
          const select = selection(call.query)
          return page(
            call,
            origin,
            listed.map((u) => project(u, select)),
            {
              pageSize: options.pageSize ?? 100,
              context: 'users',
            },
          )
        },
      },
      {
        method: 'GET',
        path: /^\/v1\.0\/users\/([^/]+)$/,
        query: ['$select'],
        answer(call, match, origin) {
          const user = byId.get(decodeURIComponent(match[1] ?? '').toLowerCase())
          if (user === undefined)
            throw new GraphStandInError(404, 'Request_ResourceNotFound', 'Resource does not exist.')
          return {
            status: 200,
            body: {
              '@odata.context': `${origin}/v1.0/$metadata#users/$entity`,
              ...project(user, selection(call.query)),
            },
          }
        },
      },
    ],
  }
}
