// An HTTPS stand-in for the Microsoft Graph resources a registration tool writes and a diagnose
// tool reads (contract §7), on loopback, trusted through the test CA (test-ca.ts). It keeps the
// tenant in memory (`state`, which tests may mutate to seed misconfigurations) and speaks Graph's
// shapes: `@odata.context` on entities and lists, lists paged by an absolute `@odata.nextLink`
// (opaque $skiptoken, `pageSize` per page), errors as { error: { code, message, innerError } }.
// Ids are random UUIDs; path segments are URL-decoded; `(appId='…')` / `(uniqueName='…')` are
// alternate keys.
//   GET    /v1.0/organization                                          tenantId, tenantType
//   GET    /v1.0/applications                                          list
//   POST   /v1.0/applications                                          201; makes id and appId
//   GET|PATCH|DELETE /v1.0/applications/{id}                           PATCH merges, `api` one level deep
//   GET|PATCH|DELETE /v1.0/applications(appId='…') | (uniqueName='…')  404 when absent
// An application's signInAudience is one of SIGN_IN_AUDIENCES, AzureADMyOrg when neither the POST
// nor the seeded state names one; the two that admit personal accounts require v2 tokens.
//   GET    /v1.0/servicePrincipals                                     list
//   POST   /v1.0/servicePrincipals                                     { appId } of an app, or of Graph / 99045fe1
//   GET|PATCH|DELETE /v1.0/servicePrincipals/{id} | (appId='…')
//   GET|POST /v1.0/servicePrincipals/{sp}/appRoleAssignments           the SP's grants (principalId = sp)
//   GET|DELETE /v1.0/servicePrincipals/{sp}/appRoleAssignments/{id}
//   GET    /v1.0/servicePrincipals/{sp}/claimsMappingPolicies          the assigned policies
//   POST   /v1.0/servicePrincipals/{sp}/claimsMappingPolicies/$ref     { "@odata.id": "…/policies/claimsMappingPolicies/{id}" }
//   DELETE /v1.0/servicePrincipals/{sp}/claimsMappingPolicies/{id}/$ref
//   GET|POST /v1.0/policies/claimsMappingPolicies
//   GET|PATCH|DELETE /v1.0/policies/claimsMappingPolicies/{id}
//   GET|POST /v1.0/identity/customAuthenticationExtensions              POST 403 without the 99045fe1 SP (trap 12)
//   GET|PATCH|DELETE /v1.0/identity/customAuthenticationExtensions/{id}
//   GET|POST /{v1.0|beta}/identity/authenticationEventListeners
//   GET|PATCH|DELETE /{v1.0|beta}/identity/authenticationEventListeners/{id}
//   POST   /{v1.0|beta}/identity/customAuthenticationExtensions/{id}/validateAuthenticationConfiguration
//   PATCH  /v1.0/applications(uniqueName='…') with Prefer: create-if-missing   upsert: 201 with the
//          new object when absent (404 without the header), 204 when it exists (an update)
//   GET    /beta/auditLogs/signIns                  the seeded sign-ins, newest first (contract §8)
//   GET|POST /v1.0/applications/{id}/extensionProperties   directory extension properties: the
//          name given becomes extension_{appId without dashes}_{name}
// OnPasswordSubmit's onPasswordSubmitCustomExtension, onPasswordSubmitListener and
// onPasswordMigrationCustomExtensionHandler exist only on beta: v1.0 refuses them in a body (400)
// and leaves them out of its answers (404 by ID). An application's keyCredentials are checked
// (keyId, type AsymmetricX509Cert, usage Encrypt or Verify, a new one's key a base64 DER
// certificate; customKeyIdentifier and the dates come from it when absent; one written back
// without its key keeps the stored key); tokenEncryptionKeyId must name a credential with usage
// Encrypt; answers carry the keys only for a $select of keyCredentials on one application.
// Each API version has its own schema, as Microsoft publishes it (msgraph-metadata, and the
// @microsoft/microsoft-graph-types{,-beta} packages): a request body with a property its version
// lacks answers 400 Request_BadRequest "The property '…' does not exist on type '…'", and answers
// carry only the version's properties. Listeners are where v1.0 and beta differ: priority and
// conditions.applications.includeAllApplications exist only on beta (defaults 500 and false);
// state keeps them, and v1.0 answers leave them out.
// GETs take $select; lists take $top, $skiptoken and a $filter of `property eq 'value'` clauses
// (and `createdDateTime ge|lt <date-time>`) joined by "and"; other query options answer 400 Request_UnsupportedQuery, so that a caller
// relying on one fails here rather than passing against a stand-in that ignored it.
// POST answers 201 with the object, PATCH and DELETE 204 with no body. Other paths answer 400
// BadRequest "Resource not found for the segment …", a known path with another method 405.
// Order of checks: throttleNext (429, before auth), the bearer token (401 unless it comes from the
// token-endpoint stand-in for this origin), `denied` (403), the body (at most 1 MiB of JSON with
// an application/json content type: 413, 415, 400), then the route. Every request is recorded
// when its response finishes.
import { createHash, randomUUID, X509Certificate } from 'node:crypto'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { testTls } from './test-ca.js'
import type { TokenEndpointStandIn } from './token-endpoint.js'

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
  /** The next `count` requests answer 429 TooManyRequests with Retry-After (0 unless given). */
  throttleNext(count: number, retryAfterSeconds?: number): void
  readonly requests: RecordedGraphRequest[]
  /** Requests other than GET (what a second idempotent run must not make). */
  writes(): RecordedGraphRequest[]
  close(): Promise<void>
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

/** customAuthenticationExtension type -> the event it serves. */
const EXTENSION_EVENTS: Readonly<Record<string, string>> = {
  '#microsoft.graph.onTokenIssuanceStartCustomExtension': 'tokenIssuanceStart',
  '#microsoft.graph.onAttributeCollectionStartCustomExtension': 'attributeCollectionStart',
  '#microsoft.graph.onAttributeCollectionSubmitCustomExtension': 'attributeCollectionSubmit',
  '#microsoft.graph.onOtpSendCustomExtension': 'otpSend',
  '#microsoft.graph.onPasswordSubmitCustomExtension': 'passwordSubmit',
}
const TOKEN_EXTENSION = '#microsoft.graph.onTokenIssuanceStartCustomExtension'

/** authenticationEventListener type -> its handler type and event. */
const LISTENER_TYPES: Readonly<Record<string, { handler: string; event: string }>> = {
  '#microsoft.graph.onTokenIssuanceStartListener': {
    handler: '#microsoft.graph.onTokenIssuanceStartCustomExtensionHandler',
    event: 'tokenIssuanceStart',
  },
  '#microsoft.graph.onAttributeCollectionStartListener': {
    handler: '#microsoft.graph.onAttributeCollectionStartCustomExtensionHandler',
    event: 'attributeCollectionStart',
  },
  '#microsoft.graph.onAttributeCollectionSubmitListener': {
    handler: '#microsoft.graph.onAttributeCollectionSubmitCustomExtensionHandler',
    event: 'attributeCollectionSubmit',
  },
  '#microsoft.graph.onEmailOtpSendListener': {
    handler: '#microsoft.graph.onOtpSendCustomExtensionHandler',
    event: 'otpSend',
  },
  '#microsoft.graph.onPasswordSubmitListener': {
    handler: '#microsoft.graph.onPasswordMigrationCustomExtensionHandler',
    event: 'passwordSubmit',
  },
}
/** The types that exist only on beta (OnPasswordSubmit's, in preview). */
const BETA_ONLY = new Set([
  '#microsoft.graph.onPasswordSubmitCustomExtension',
  '#microsoft.graph.onPasswordSubmitListener',
  '#microsoft.graph.onPasswordMigrationCustomExtensionHandler',
])
/** A body naming a type its version lacks: refused as Graph refuses an unknown type. */
function knownType(body: unknown, version: Version) {
  if (version === 'beta' || !isRecord(body)) return
  const types = [
    body['@odata.type'],
    isRecord(body.handler) ? body.handler['@odata.type'] : undefined,
  ]
  for (const type of types)
    if (typeof type === 'string' && BETA_ONLY.has(type))
      throw bad(
        `A type named '${type.slice(1)}' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.`,
      )
}
/** Whether `version` knows the object's type (v1.0 does not know beta's preview types). */
const visibleAt = (version: Version, object: GraphObject) =>
  version === 'beta' || !BETA_ONLY.has(String(object['@odata.type']))
const TOKEN_LISTENER = '#microsoft.graph.onTokenIssuanceStartListener'

type Version = 'v1.0' | 'beta'

/**
 * The properties a request body may name, per type and API version (Microsoft's published
 * schema: navigation properties and the server-made ones left out). `@odata.type` is always allowed.
 */
const PROPERTIES = {
  application: {
    type: 'application',
    'v1.0': [
      'id',
      'deletedDateTime',
      'addIns',
      'api',
      'appId',
      'applicationTemplateId',
      'appRoles',
      'authenticationBehaviors',
      'certification',
      'createdDateTime',
      'defaultRedirectUri',
      'description',
      'disabledByMicrosoftStatus',
      'displayName',
      'groupMembershipClaims',
      'identifierUris',
      'info',
      'isDeviceOnlyAuthSupported',
      'isFallbackPublicClient',
      'keyCredentials',
      'logo',
      'nativeAuthenticationApisEnabled',
      'notes',
      'optionalClaims',
      'parentalControlSettings',
      'passwordCredentials',
      'publicClient',
      'publisherDomain',
      'requestSignatureVerification',
      'requiredResourceAccess',
      'samlMetadataUrl',
      'serviceManagementReference',
      'servicePrincipalLockConfiguration',
      'signInAudience',
      'spa',
      'tags',
      'tokenEncryptionKeyId',
      'uniqueName',
      'verifiedPublisher',
      'web',
    ],
  },
  extension: {
    type: 'customAuthenticationExtension',
    'v1.0': [
      'id',
      'authenticationConfiguration',
      'behaviorOnError',
      'claimsForTokenConfiguration',
      'clientConfiguration',
      'description',
      'displayName',
      'endpointConfiguration',
    ],
  },
  listener: {
    type: 'authenticationEventListener',
    'v1.0': ['id', 'authenticationEventsFlowId', 'conditions', 'handler'],
    beta: ['id', 'authenticationEventsFlowId', 'conditions', 'handler', 'priority'],
  },
  conditions: { type: 'authenticationConditions', 'v1.0': ['applications'] },
  applications: {
    type: 'authenticationConditionsApplications',
    'v1.0': ['includeApplications'],
    beta: ['includeApplications', 'includeAllApplications'],
  },
  handler: {
    type: 'authenticationEventHandler',
    'v1.0': ['customExtension', 'configuration'],
    beta: ['customExtension', 'configuration', 'migrationPropertyId'],
  },
  configuration: {
    type: 'customExtensionOverwriteConfiguration',
    'v1.0': ['behaviorOnError', 'clientConfiguration'],
  },
} as const satisfies Record<
  string,
  { readonly type: string; readonly 'v1.0': readonly string[]; readonly beta?: readonly string[] }
>

/** An object's @odata.type without its namespace, to name it in an error. */
const typeName = (object: Record<string, unknown>) =>
  typeof object['@odata.type'] === 'string'
    ? object['@odata.type'].replace(/^#?microsoft\.graph\./, '')
    : undefined

/** A 400 for the first property of `body` that `schema` lacks on `version`, as Graph answers. */
function knownProperties(
  body: unknown,
  schema: keyof typeof PROPERTIES,
  version: Version,
  onType?: string,
) {
  if (!isRecord(body)) return
  const entry: {
    readonly type: string
    readonly 'v1.0': readonly string[]
    readonly beta?: readonly string[]
  } = PROPERTIES[schema]
  const allowed = (version === 'beta' ? entry.beta : undefined) ?? entry['v1.0']
  for (const name of Object.keys(body)) {
    if (name === '@odata.type' || allowed.includes(name)) continue
    throw bad(
      `The property '${name}' does not exist on type 'microsoft.graph.${onType ?? entry.type}'. Make sure to only use property names that are defined by the type.`,
    )
  }
}

/** A listener request body's properties, checked against its version's schema, all the way down. */
function knownListenerProperties(body: Record<string, unknown>, version: Version) {
  knownProperties(body, 'listener', version, typeName(body))
  if (isRecord(body.conditions)) {
    knownProperties(body.conditions, 'conditions', version)
    knownProperties(body.conditions.applications, 'applications', version)
  }
  if (isRecord(body.handler)) {
    knownProperties(body.handler, 'handler', version)
    knownProperties(body.handler.configuration, 'configuration', version)
  }
}

/** A stored listener as `version` answers it: beta's own properties with their defaults, or without. */
function listenerAt(version: Version, listener: GraphObject): GraphObject {
  const copy = structuredClone(listener)
  const conditions = isRecord(copy.conditions) ? copy.conditions : undefined
  const applications = isRecord(conditions?.applications) ? conditions.applications : undefined
  if (version === 'beta') {
    copy.priority ??= 500
    if (applications !== undefined) applications.includeAllApplications ??= false
  } else {
    delete copy.priority
    if (applications !== undefined) delete applications.includeAllApplications
  }
  return copy
}

/** Who may sign in to an application; Graph's default for a new one is AzureADMyOrg. */
export const SIGN_IN_AUDIENCES = [
  'AzureADMyOrg',
  'AzureADMultipleOrgs',
  'AzureADandPersonalMicrosoftAccount',
  'PersonalMicrosoftAccount',
] as const

/** An application as Graph answers it: with the default signInAudience when it was seeded without. */
const withDefaults = (app: GraphObject, keys = false): GraphObject => {
  const answered =
    app.signInAudience === undefined ? { ...app, signInAudience: 'AzureADMyOrg' } : app
  // A key credential's key is answered only on a $select of keyCredentials on one application.
  if (keys || !Array.isArray(answered.keyCredentials)) return answered
  return {
    ...answered,
    keyCredentials: (answered.keyCredentials as unknown[]).map((k) =>
      isRecord(k) ? { ...k, key: null } : k,
    ),
  }
}

/** An application's keyCredentials as written: each checked, the dates and thumbprint from the certificate. */
function keyCredentialsOf(value: unknown, stored: unknown): GraphObject[] {
  if (!Array.isArray(value)) throw bad("Property 'keyCredentials' must be a collection.")
  const before = Array.isArray(stored) ? (stored as unknown[]).filter(isRecord) : []
  return (value as unknown[]).map((k) => {
    if (!isRecord(k)) throw bad('Each keyCredential must be an object.')
    if (typeof k.keyId !== 'string' || !GUID.test(k.keyId))
      throw bad('keyCredential.keyId must be a GUID.')
    if (k.type !== 'AsymmetricX509Cert')
      throw bad(`keyCredential.type '${String(k.type)}' is not supported here: AsymmetricX509Cert.`)
    if (k.usage !== 'Encrypt' && k.usage !== 'Verify')
      throw bad(`keyCredential.usage must be Encrypt or Verify; got '${String(k.usage)}'.`)
    const old = before.find((b) => b.keyId === k.keyId)
    const key = typeof k.key === 'string' && k.key !== '' ? k.key : old?.key
    if (typeof key !== 'string')
      throw bad(
        `keyCredential '${k.keyId}': a new key credential needs its key (a base64 certificate).`,
      )
    let cert: X509Certificate
    try {
      cert = new X509Certificate(Buffer.from(key, 'base64'))
    } catch {
      throw bad(`keyCredential '${k.keyId}': key is not a base64 DER X.509 certificate.`)
    }
    return {
      displayName: null,
      ...k,
      key,
      customKeyIdentifier:
        k.customKeyIdentifier ??
        createHash('sha1').update(Buffer.from(key, 'base64')).digest('base64'),
      startDateTime: k.startDateTime ?? new Date(cert.validFrom).toISOString(),
      endDateTime: k.endDateTime ?? new Date(cert.validTo).toISOString(),
    } as unknown as GraphObject
  })
}

const MAX_BODY = 1024 * 1024
const MAX_EXTENSIONS = 100
const MAX_LISTENERS = 250
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const RESOURCE_ID =
  /^api:\/\/([^/]+)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i
const CONTENT_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8'

class GraphError extends Error {
  readonly status: number
  readonly code: string
  readonly headers: Readonly<Record<string, string>>
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

const bad = (message: string, code = 'Request_BadRequest') => new GraphError(400, code, message)
const notFound = (key: string) =>
  new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
  )
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
const same = (a: unknown, b: unknown) =>
  typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase()
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z')

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined) throw bad('Empty Payload. JSON content expected.', 'BadRequest')
  if (!isRecord(body)) throw bad('The request body must be a JSON object.', 'BadRequest')
  return body
}

function readOnly(
  body: Record<string, unknown>,
  current: GraphObject | undefined,
  names: string[],
) {
  for (const name of names) {
    if (body[name] !== undefined && (current === undefined || body[name] !== current[name]))
      throw bad(`Property '${name}' is read-only and cannot be set.`)
  }
}

interface Reply {
  readonly status: number
  readonly body?: unknown
}

interface Call {
  readonly method: string
  readonly url: URL
  readonly version: Version
  readonly body: unknown
  /** The Prefer header ('' when absent). */
  readonly prefer: string
  /** The route pattern's groups. */
  readonly match: RegExpExecArray
}

type Handler = (call: Call) => Reply

interface Route {
  readonly pattern: RegExp
  readonly methods: Readonly<Partial<Record<string, Handler>>>
}

const SP_KEY = String.raw`(?:/([^/()]+)|\(appId='([^']*)'\))`
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
function unknownSegment(segments: readonly string[]): string {
  for (const [index, segment] of segments.entries()) {
    const name = segment.replace(/\(.*$/, '')
    if (KNOWN_SEGMENTS.has(name)) continue
    const previous = segments[index - 1]
    if (previous !== undefined && COLLECTIONS.has(previous)) continue
    return segment
  }
  return segments.at(-1) ?? ''
}

function validateIdentifierUris(app: GraphObject, others: readonly GraphObject[]) {
  const uris = app.identifierUris
  if (!Array.isArray(uris)) throw bad("Property 'identifierUris' must be a collection of strings.")
  for (const uri of uris as unknown[]) {
    const match = typeof uri === 'string' ? RESOURCE_ID.exec(uri) : null
    if (
      typeof uri !== 'string' ||
      !uri.startsWith('api://') ||
      (match !== null && !same(match[2], app.appId))
    )
      throw bad(
        `Values of identifierUris property must use a verified domain of the organization or its subdomain, or be of the form api://{host}/{appId} with this application's appId: '${String(uri)}'.`,
      )
    if (others.some((o) => Array.isArray(o.identifierUris) && o.identifierUris.includes(uri)))
      throw bad(
        'Another object with the same value for property identifierUris already exists.',
        'Request_MultipleObjectsWithSameKeyValue',
      )
  }
}

function validateApplication(app: GraphObject, others: readonly GraphObject[]) {
  if (typeof app.displayName !== 'string' || app.displayName === '')
    throw bad("Property 'displayName' is required and must be a non-empty string.")
  if (app.uniqueName !== undefined) {
    if (typeof app.uniqueName !== 'string' || app.uniqueName === '')
      throw bad("Property 'uniqueName' must be a non-empty string.")
    if (others.some((o) => same(o.uniqueName, app.uniqueName)))
      throw bad(
        'Another object with the same value for property uniqueName already exists.',
        'Request_MultipleObjectsWithSameKeyValue',
      )
  }
  validateIdentifierUris(app, others)
  if (!isRecord(app.api)) throw bad("Property 'api' must be an object.")
  const version = app.api.requestedAccessTokenVersion
  if (version !== undefined && version !== null && version !== 1 && version !== 2)
    throw bad("Property 'api.requestedAccessTokenVersion' must be null, 1 or 2.")
  const audience = app.signInAudience
  if (audience !== undefined && !SIGN_IN_AUDIENCES.some((a) => a === audience))
    throw bad(`Property 'signInAudience' must be one of ${SIGN_IN_AUDIENCES.join(', ')}.`)
  // Personal Microsoft accounts get v2 tokens only.
  if (String(audience).includes('PersonalMicrosoftAccount') && version !== 2)
    throw bad('Property api.requestedAccessTokenVersion is invalid.')
  const mapped = app.api.acceptMappedClaims
  if (mapped !== undefined && mapped !== null && typeof mapped !== 'boolean')
    throw bad("Property 'api.acceptMappedClaims' must be null or a boolean.")
  if (!Array.isArray(app.requiredResourceAccess))
    throw bad("Property 'requiredResourceAccess' must be a collection.")
  const encryption = app.tokenEncryptionKeyId
  if (encryption !== undefined && encryption !== null) {
    const keys = Array.isArray(app.keyCredentials) ? (app.keyCredentials as unknown[]) : []
    if (!keys.some((k) => isRecord(k) && k.keyId === encryption && k.usage === 'Encrypt'))
      throw bad(
        `Property 'tokenEncryptionKeyId' '${JSON.stringify(encryption)}' names no keyCredential with usage Encrypt.`,
      )
  }
}

function validateDefinition(definition: unknown) {
  const problem = bad(
    "Property 'definition' must be a collection of exactly one string: the JSON of an object with a 'ClaimsMappingPolicy' object.",
  )
  if (!Array.isArray(definition) || definition.length !== 1) throw problem
  const [text] = definition as unknown[]
  if (typeof text !== 'string') throw problem
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw problem
  }
  if (!isRecord(parsed) || !isRecord(parsed.ClaimsMappingPolicy)) throw problem
}

function validateExtension(extension: GraphObject) {
  const type = extension['@odata.type']
  if (typeof type !== 'string' || EXTENSION_EVENTS[type] === undefined)
    throw bad(
      `Property '@odata.type' must name a customAuthenticationExtension type (one of ${Object.keys(EXTENSION_EVENTS).join(', ')}); got '${String(type)}'.`,
    )
  if (typeof extension.displayName !== 'string' || extension.displayName.trim() === '')
    throw bad("Property 'displayName' is required and must be a non-empty string.")
  const endpoint = extension.endpointConfiguration
  if (endpoint !== undefined && endpoint !== null) {
    if (!isRecord(endpoint)) throw bad("Property 'endpointConfiguration' must be an object.")
    const odataType = endpoint['@odata.type']
    if (odataType !== undefined && odataType !== '#microsoft.graph.httpRequestEndpoint')
      throw bad("endpointConfiguration's @odata.type must be #microsoft.graph.httpRequestEndpoint.")
    let https: boolean
    try {
      https =
        typeof endpoint.targetUrl === 'string' && new URL(endpoint.targetUrl).protocol === 'https:'
    } catch {
      https = false
    }
    if (!https)
      throw bad(
        `endpointConfiguration.targetUrl must be an absolute https URL; got '${String(endpoint.targetUrl)}'.`,
      )
  }
  const authentication = extension.authenticationConfiguration
  if (authentication !== undefined && authentication !== null) {
    if (!isRecord(authentication))
      throw bad("Property 'authenticationConfiguration' must be an object.")
    const odataType = authentication['@odata.type']
    if (odataType !== undefined && odataType !== '#microsoft.graph.azureAdTokenAuthentication')
      throw bad(
        "authenticationConfiguration's @odata.type must be #microsoft.graph.azureAdTokenAuthentication.",
      )
    if (typeof authentication.resourceId !== 'string')
      throw bad('authenticationConfiguration.resourceId must be a string.')
  }
  const client = extension.clientConfiguration
  if (client !== undefined && client !== null) {
    if (!isRecord(client)) throw bad("Property 'clientConfiguration' must be an object.")
    const timeout = client.timeoutInMilliseconds
    if (
      timeout !== undefined &&
      timeout !== null &&
      !(Number.isInteger(timeout) && (timeout as number) >= 200 && (timeout as number) <= 2000)
    )
      throw bad(
        `clientConfiguration.timeoutInMilliseconds must be null or an integer from 200 to 2000; got ${JSON.stringify(timeout)}.`,
      )
    const retries = client.maximumRetries
    if (retries !== undefined && retries !== null && retries !== 0 && retries !== 1)
      throw bad(
        `clientConfiguration.maximumRetries must be null, 0 or 1; got ${JSON.stringify(retries)}.`,
      )
  }
  const claims = extension.claimsForTokenConfiguration
  if (claims !== undefined && claims !== null) {
    if (type !== TOKEN_EXTENSION)
      throw bad(
        `Property 'claimsForTokenConfiguration' does not exist on type '${type.slice(1)}'; only ${TOKEN_EXTENSION} has it.`,
      )
    if (
      !Array.isArray(claims) ||
      !(claims as unknown[]).every(
        (c) =>
          isRecord(c) &&
          typeof c.claimIdInApiResponse === 'string' &&
          c.claimIdInApiResponse !== '',
      )
    )
      throw bad(
        'claimsForTokenConfiguration must be a collection of { claimIdInApiResponse: non-empty string }.',
      )
  }
}

function validateListener(
  listener: GraphObject,
  extensions: readonly GraphObject[],
  extensionProperties: readonly GraphObject[],
) {
  const type = listener['@odata.type']
  const pair = typeof type === 'string' ? LISTENER_TYPES[type] : undefined
  if (typeof type !== 'string' || pair === undefined)
    throw bad(
      `Property '@odata.type' must name an authenticationEventListener type (one of ${Object.keys(LISTENER_TYPES).join(', ')}); got '${String(type)}'.`,
    )
  const handler = listener.handler
  if (!isRecord(handler)) throw bad("Property 'handler' is required and must be an object.")
  if (handler['@odata.type'] !== pair.handler)
    throw bad(
      `handler's @odata.type must be ${pair.handler} for ${type}; got '${String(handler['@odata.type'])}'.`,
    )
  const extensionId = isRecord(handler.customExtension) ? handler.customExtension.id : undefined
  if (typeof extensionId !== 'string') throw bad('handler.customExtension.id is required.')
  const extension = extensions.find((e) => e.id === extensionId)
  if (extension === undefined)
    throw bad(`handler.customExtension.id '${extensionId}' names no customAuthenticationExtension.`)
  const extensionType = extension['@odata.type']
  if (typeof extensionType !== 'string' || EXTENSION_EVENTS[extensionType] !== pair.event)
    throw bad(
      `handler.customExtension '${extensionId}' is a ${String(extensionType)}, which cannot handle ${type}.`,
    )
  if (pair.event === 'passwordSubmit') {
    const property = handler.migrationPropertyId
    if (typeof property !== 'string' || !extensionProperties.some((p) => same(p.name, property)))
      throw bad(
        `handler.migrationPropertyId '${String(property)}' names no directory extension property of the tenant.`,
      )
  }
  const priority = listener.priority
  if (
    priority !== undefined &&
    (!Number.isInteger(priority) || (priority as number) < 0 || (priority as number) > 1000)
  )
    throw bad(
      `Property 'priority' must be an integer from 0 to 1000; got ${JSON.stringify(priority)}.`,
    )
  const conditions = listener.conditions
  if (conditions === undefined || conditions === null) return
  if (!isRecord(conditions)) throw bad("Property 'conditions' must be an object.")
  const applications = conditions.applications
  if (applications === undefined || applications === null) return
  if (!isRecord(applications)) throw bad('conditions.applications must be an object.')
  const include = applications.includeApplications
  if (
    include !== undefined &&
    (!Array.isArray(include) ||
      !(include as unknown[]).every(
        (a) => isRecord(a) && typeof a.appId === 'string' && GUID.test(a.appId),
      ))
  )
    throw bad(
      'conditions.applications.includeApplications must be a collection of { appId: GUID }.',
    )
  const all = applications.includeAllApplications
  if (all !== undefined && typeof all !== 'boolean')
    throw bad('conditions.applications.includeAllApplications must be a boolean.')
  if (all === true && type === TOKEN_LISTENER)
    throw bad(`conditions.applications.includeAllApplications must be false for ${type}.`)
}

/** Graph's $filter, as far as the stand-in goes: `property eq 'value'` clauses joined by "and". */
function filterBy(items: readonly GraphObject[], filter: string | null): readonly GraphObject[] {
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

function select(
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

function checkQuery(url: URL, allowed: readonly string[]) {
  for (const name of url.searchParams.keys()) {
    if (name.startsWith('$') && !allowed.includes(name))
      throw bad(
        `The stand-in does not implement the query option ${name} here.`,
        'Request_UnsupportedQuery',
      )
  }
}

const encodeSkip = (offset: number) => Buffer.from(`offset:${offset}`).toString('base64url')
function decodeSkip(token: string | null): number {
  if (token === null) return 0
  const match = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'))
  if (match === null) throw bad('Invalid $skiptoken.', 'BadRequest')
  return Number(match[1])
}

export async function startEntraGraphServer(options: {
  readonly tokens: TokenEndpointStandIn
  readonly state: EntraGraphState
}): Promise<EntraGraphStandIn> {
  const tls = await testTls()
  const throttle = { remaining: 0, retryAfterSeconds: 0 }

  const context = (call: Call, fragment: string) =>
    `${stand.origin}/${call.version}/$metadata#${fragment}`

  const entity = (call: Call, object: GraphObject, fragment: string, status = 200): Reply => {
    if (call.method === 'GET') checkQuery(call.url, ['$select'])
    const selected = call.method === 'GET' ? call.url.searchParams.get('$select') : null
    return {
      status,
      body: { '@odata.context': context(call, `${fragment}/$entity`), ...select(object, selected) },
    }
  }

  const list = (call: Call, items: readonly GraphObject[], fragment: string): Reply => {
    const query = call.url.searchParams
    checkQuery(call.url, ['$select', '$top', '$skiptoken', '$filter'])
    const top = query.has('$top') ? Number(query.get('$top')) : stand.pageSize
    if (!Number.isInteger(top) || top < 1 || top > 999)
      throw bad(
        `Invalid page size specified: '${query.get('$top')}'. Must be between 1 and 999 inclusive.`,
        'BadRequest',
      )
    const offset = decodeSkip(query.get('$skiptoken'))
    const filtered = filterBy(items, query.get('$filter'))
    const body: Record<string, unknown> = {
      '@odata.context': context(call, fragment),
      value: filtered.slice(offset, offset + top).map((o) => select(o, query.get('$select'))),
    }
    if (offset + top < filtered.length) {
      const next = new URLSearchParams(query)
      next.set('$skiptoken', encodeSkip(offset + top))
      body['@odata.nextLink'] =
        `${stand.origin}${call.url.pathname}?${next.toString().replace(/\+/g, '%20').replace(/%24/g, '$')}`
    }
    return { status: 200, body }
  }

  const noContent: Reply = { status: 204 }

  const findApplication = (match: RegExpExecArray): GraphObject => {
    const [, id, key, value] = match
    const apps = stand.state.applications
    const app =
      id !== undefined
        ? apps.find((a) => a.id === id)
        : apps.find((a) => key !== undefined && same(a[key], value))
    if (app === undefined) throw notFound(id ?? `${key}='${value}'`)
    return app
  }

  const findServicePrincipal = (id: string | undefined, appId: string | undefined): GraphObject => {
    const sps = stand.state.servicePrincipals
    const sp =
      id !== undefined ? sps.find((s) => s.id === id) : sps.find((s) => same(s.appId, appId))
    if (sp === undefined) throw notFound(id ?? `appId='${appId}'`)
    return sp
  }

  const spOf = (match: RegExpExecArray) => findServicePrincipal(match[1], match[2])

  /** The object `call.match[1]` names, if its type exists on the call's version. */
  const visible = (call: Call, items: readonly GraphObject[]): GraphObject => {
    const found = byId(items, call.match[1])
    if (!visibleAt(call.version, found)) throw notFound(call.match[1] ?? '')
    return found
  }

  const byId = (items: readonly GraphObject[], id: string | undefined): GraphObject => {
    const found = items.find((o) => o.id === id)
    if (found === undefined) throw notFound(id ?? '')
    return found
  }

  const remove = <T>(items: T[], keep: (item: T) => boolean) => {
    const kept = items.filter(keep)
    items.splice(0, items.length, ...kept)
  }

  const deleteServicePrincipal = (sp: GraphObject) => {
    const s = stand.state
    remove(s.servicePrincipals, (o) => o !== sp)
    remove(s.appRoleAssignments, (a) => a.principalId !== sp.id && a.resourceId !== sp.id)
    remove(s.policyAssignments, (a) => a.servicePrincipalId !== sp.id)
  }

  // Applications -------------------------------------------------------------------------------

  const patchApplication = (app: GraphObject, body: unknown): Reply => {
    const patch = objectBody(body)
    knownProperties(patch, 'application', 'v1.0')
    readOnly(patch, app, ['id', 'appId'])
    if (app.uniqueName !== undefined) readOnly(patch, app, ['uniqueName'])
    if (patch.api !== undefined && !isRecord(patch.api))
      throw bad("Property 'api' must be an object.")
    const next: GraphObject = {
      ...app,
      ...patch,
      id: app.id,
      api: { ...(isRecord(app.api) ? app.api : {}), ...(isRecord(patch.api) ? patch.api : {}) },
      ...(patch.keyCredentials === undefined
        ? {}
        : { keyCredentials: keyCredentialsOf(patch.keyCredentials, app.keyCredentials) }),
    }
    validateApplication(
      next,
      stand.state.applications.filter((o) => o !== app),
    )
    Object.assign(app, next)
    return noContent
  }

  const createApplication = (body: unknown): GraphObject => {
    const post = objectBody(body)
    knownProperties(post, 'application', 'v1.0')
    readOnly(post, undefined, ['id', 'appId'])
    if (post.api !== undefined && !isRecord(post.api))
      throw bad("Property 'api' must be an object.")
    const app: GraphObject = {
      id: randomUUID(),
      appId: randomUUID(),
      createdDateTime: now(),
      signInAudience: 'AzureADMyOrg',
      identifierUris: [],
      requiredResourceAccess: [],
      ...post,
      api: {
        requestedAccessTokenVersion: null,
        acceptMappedClaims: null,
        oauth2PermissionScopes: [],
        ...(isRecord(post.api) ? post.api : {}),
      },
      ...(post.keyCredentials === undefined
        ? {}
        : { keyCredentials: keyCredentialsOf(post.keyCredentials, []) }),
    }
    validateApplication(app, stand.state.applications)
    stand.state.applications.push(app)
    return app
  }

  const createExtensionProperty = (app: GraphObject, body: unknown): GraphObject => {
    const post = objectBody(body)
    readOnly(post, undefined, ['id'])
    for (const name of Object.keys(post))
      if (!['name', 'dataType', 'targetObjects', 'isMultiValued'].includes(name))
        throw bad(
          `The property '${name}' does not exist on type 'microsoft.graph.extensionProperty'. Make sure to only use property names that are defined by the type.`,
        )
    const { name, dataType, targetObjects } = post
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9]{0,99}$/.test(name))
      throw bad("Property 'name' is required: letters and digits.")
    const types = ['Binary', 'Boolean', 'DateTime', 'Integer', 'LargeInteger', 'String']
    if (typeof dataType !== 'string' || !types.includes(dataType))
      throw bad(`Property 'dataType' must be one of ${types.join(', ')}.`)
    if (
      !Array.isArray(targetObjects) ||
      targetObjects.length === 0 ||
      !(targetObjects as unknown[]).every((t) => typeof t === 'string')
    )
      throw bad("Property 'targetObjects' must be a non-empty collection of strings.")
    const full = `extension_${String(app.appId).replace(/-/g, '')}_${name}`
    if (stand.state.extensionProperties.some((p) => same(p.name, full)))
      throw bad(
        'Another object with the same value for property name already exists.',
        'Request_MultipleObjectsWithSameKeyValue',
      )
    const property: GraphObject = {
      id: randomUUID(),
      appObjectId: app.id,
      appDisplayName: app.displayName,
      name: full,
      dataType,
      targetObjects,
      isMultiValued: post.isMultiValued === true,
      isSyncedFromOnPremises: false,
    }
    stand.state.extensionProperties.push(property)
    return property
  }

  // Service principals -------------------------------------------------------------------------

  const createServicePrincipal = (body: unknown): GraphObject => {
    const post = objectBody(body)
    readOnly(post, undefined, ['id'])
    const appId = post.appId
    if (typeof appId !== 'string') throw bad("Property 'appId' is required.")
    const s = stand.state
    const app = s.applications.find((a) => same(a.appId, appId))
    const firstParty = same(appId, GRAPH_APP_ID) || same(appId, AUTH_EVENTS_APP_ID)
    if (app === undefined && !firstParty)
      throw bad(
        `The appId '${appId}' of the service principal does not reference a valid application object.`,
      )
    if (s.servicePrincipals.some((sp) => same(sp.appId, appId)))
      throw bad(
        'Another object with the same value for property servicePrincipalNames already exists.',
        'Request_MultipleObjectsWithSameKeyValue',
      )
    const displayName =
      app?.displayName ??
      (same(appId, AUTH_EVENTS_APP_ID) ? 'Azure AD authentication events' : 'Microsoft Graph')
    const sp: GraphObject = {
      id: randomUUID(),
      displayName,
      accountEnabled: true,
      servicePrincipalType: 'Application',
      appRoles: structuredClone(Array.isArray(app?.appRoles) ? app.appRoles : []),
      servicePrincipalNames: [
        appId,
        ...(Array.isArray(app?.identifierUris) ? (app.identifierUris as unknown[]) : []),
      ],
      ...post,
      appId: app?.appId ?? appId.toLowerCase(),
    }
    s.servicePrincipals.push(sp)
    return sp
  }

  const patchServicePrincipal = (sp: GraphObject, body: unknown): Reply => {
    const patch = objectBody(body)
    readOnly(patch, sp, ['id', 'appId'])
    if (patch.accountEnabled !== undefined && typeof patch.accountEnabled !== 'boolean')
      throw bad("Property 'accountEnabled' must be a boolean.")
    Object.assign(sp, patch)
    return noContent
  }

  const assignAppRole = (sp: GraphObject, body: unknown): GraphObject => {
    const post = objectBody(body)
    const { principalId, resourceId, appRoleId } = post
    if (
      typeof principalId !== 'string' ||
      typeof resourceId !== 'string' ||
      typeof appRoleId !== 'string'
    )
      throw bad("Properties 'principalId', 'resourceId' and 'appRoleId' are required.")
    if (principalId !== sp.id)
      throw bad(
        `The principalId '${principalId}' does not match the service principal '${sp.id}' in the URL.`,
      )
    const s = stand.state
    const resource = s.servicePrincipals.find((o) => o.id === resourceId)
    if (resource === undefined)
      throw bad(`The resource service principal '${resourceId}' does not exist.`)
    const roles = Array.isArray(resource.appRoles) ? (resource.appRoles as unknown[]) : []
    if (!roles.some((r) => isRecord(r) && r.id === appRoleId))
      throw bad(
        `Permission being assigned was not found on application '${String(resource.appId)}'.`,
      )
    if (
      s.appRoleAssignments.some(
        (a) =>
          a.principalId === principalId && a.resourceId === resourceId && a.appRoleId === appRoleId,
      )
    )
      throw bad('Permission being assigned already exists on the object')
    const assignment: GraphObject = {
      id: randomUUID(),
      appRoleId,
      createdDateTime: now(),
      deletedDateTime: null,
      principalDisplayName: sp.displayName,
      principalId,
      principalType: 'ServicePrincipal',
      resourceDisplayName: resource.displayName,
      resourceId,
    }
    s.appRoleAssignments.push(assignment)
    return assignment
  }

  // Claims mapping policies --------------------------------------------------------------------

  const createPolicy = (body: unknown): GraphObject => {
    const post = objectBody(body)
    readOnly(post, undefined, ['id'])
    if (typeof post.displayName !== 'string' || post.displayName === '')
      throw bad("Property 'displayName' is required.")
    validateDefinition(post.definition)
    const policy: GraphObject = {
      id: randomUUID(),
      deletedDateTime: null,
      isOrganizationDefault: false,
      ...post,
    }
    stand.state.claimsMappingPolicies.push(policy)
    return policy
  }

  const patchPolicy = (policy: GraphObject, body: unknown): Reply => {
    const patch = objectBody(body)
    readOnly(patch, policy, ['id'])
    if (
      patch.displayName !== undefined &&
      (typeof patch.displayName !== 'string' || patch.displayName === '')
    )
      throw bad("Property 'displayName' must be a non-empty string.")
    if (patch.definition !== undefined) validateDefinition(patch.definition)
    Object.assign(policy, patch)
    return noContent
  }

  const assignPolicy = (sp: GraphObject, body: unknown): Reply => {
    const reference = objectBody(body)['@odata.id']
    let policyId: string | undefined
    try {
      const path = decodeURIComponent(new URL(String(reference)).pathname)
      policyId = /\/policies\/claimsMappingPolicies\/([^/]+)$/.exec(path)?.[1]
    } catch {
      policyId = undefined
    }
    if (typeof reference !== 'string' || policyId === undefined)
      throw bad(
        "Property '@odata.id' must be the URL of a claims mapping policy: https://graph.microsoft.com/v1.0/policies/claimsMappingPolicies/{id}.",
      )
    const s = stand.state
    if (!s.claimsMappingPolicies.some((p) => p.id === policyId))
      throw bad(
        `Resource '${policyId}' does not exist or one of its queried reference-property objects are not present.`,
      )
    const assigned = s.policyAssignments.filter((a) => a.servicePrincipalId === sp.id)
    if (assigned.some((a) => a.policyId === policyId))
      throw bad(
        "One or more added object references already exist for the following modified properties: 'claimsMappingPolicies'.",
      )
    if (assigned.length > 0)
      throw bad(
        'Only one policy of type ClaimsMappingPolicy can be assigned to a service principal; remove the assigned one first.',
      )
    s.policyAssignments.push({ servicePrincipalId: sp.id, policyId })
    return noContent
  }

  // Custom authentication extensions -----------------------------------------------------------

  const createExtension = (body: unknown, version: Version): GraphObject => {
    const post = objectBody(body)
    knownType(post, version)
    knownProperties(post, 'extension', 'v1.0', typeName(post))
    readOnly(post, undefined, ['id'])
    if (post['@odata.type'] === undefined) throw bad("Property '@odata.type' is required.")
    const extension: GraphObject = { id: randomUUID(), ...post }
    validateExtension(extension)
    const s = stand.state
    if (s.extensions.length >= MAX_EXTENSIONS)
      throw bad(
        `The tenant already has the maximum of ${MAX_EXTENSIONS} custom authentication extensions.`,
      )
    if (!s.servicePrincipals.some((sp) => same(sp.appId, AUTH_EVENTS_APP_ID)))
      throw new GraphError(
        403,
        'Authorization_RequestDenied',
        `The service principal for the Azure AD authentication events app (${AUTH_EVENTS_APP_ID}) does not exist in the tenant.`,
      )
    s.extensions.push(extension)
    return extension
  }

  const patchTyped = (
    object: GraphObject,
    body: unknown,
    checkProperties: (patch: Record<string, unknown>) => void,
    validate: (next: GraphObject) => void,
  ): Reply => {
    const patch = objectBody(body)
    checkProperties(patch)
    readOnly(patch, object, ['id'])
    if (patch['@odata.type'] !== undefined && patch['@odata.type'] !== object['@odata.type'])
      throw bad(
        `The @odata.type ${JSON.stringify(patch['@odata.type'])} does not match the object's type '${String(object['@odata.type'])}'.`,
      )
    const next: GraphObject = { ...object, ...patch, id: object.id }
    validate(next)
    Object.assign(object, next)
    return noContent
  }

  const validateConfiguration = (extension: GraphObject) => {
    const errors: { code: string; message: string }[] = []
    const warnings: { code: string; message: string }[] = []
    const s = stand.state
    const authentication = extension.authenticationConfiguration
    const resourceId = isRecord(authentication) ? authentication.resourceId : undefined
    const match = typeof resourceId === 'string' ? RESOURCE_ID.exec(resourceId) : null
    if (match === null) {
      errors.push({
        code: 'IncorrectResourceIdFormat',
        message: `The resourceId '${String(resourceId)}' is not of the form api://{fully qualified domain name of the targetUrl}/{appId}.`,
      })
      return { errors, warnings }
    }
    const [, host = '', appId = ''] = match
    const endpoint = extension.endpointConfiguration
    const targetUrl = isRecord(endpoint) ? endpoint.targetUrl : undefined
    let targetHost: string | undefined
    try {
      targetHost = new URL(String(targetUrl)).hostname
    } catch {
      targetHost = undefined
    }
    if (!same(host, targetHost))
      errors.push({
        code: 'DomainNameDoesNotMatch',
        message: `The domain name '${host}' in the resourceId does not match the host '${String(targetHost)}' of the targetUrl.`,
      })
    const sp = s.servicePrincipals.find((o) => same(o.appId, appId))
    if (sp === undefined) {
      errors.push({
        code: 'ServicePrincipalNotFound',
        message: `No service principal with appId '${appId}' (from the resourceId) exists in the tenant.`,
      })
      return { errors, warnings }
    }
    const graph = s.servicePrincipals.find((o) => same(o.appId, GRAPH_APP_ID))
    const granted = s.appRoleAssignments.some(
      (a) =>
        a.principalId === sp.id &&
        graph !== undefined &&
        a.resourceId === graph.id &&
        same(a.appRoleId, RECEIVE_PAYLOAD_ROLE_ID),
    )
    if (!granted)
      warnings.push({
        code: 'PermissionNotGrantedToServicePrincipal',
        message: `The service principal '${sp.id}' (appId '${appId}') has not been granted the Microsoft Graph application permission CustomAuthenticationExtension.Receive.Payload (${RECEIVE_PAYLOAD_ROLE_ID}).`,
      })
    return { errors, warnings }
  }

  // Listeners ----------------------------------------------------------------------------------

  const createListener = (body: unknown, version: Version): GraphObject => {
    const post = objectBody(body)
    knownType(post, version)
    knownListenerProperties(post, version)
    readOnly(post, undefined, ['id'])
    const listener: GraphObject = { id: randomUUID(), ...post }
    const s = stand.state
    validateListener(listener, s.extensions, s.extensionProperties)
    if (s.listeners.length >= MAX_LISTENERS)
      throw bad(
        `The tenant already has the maximum of ${MAX_LISTENERS} authentication event listeners.`,
      )
    s.listeners.push(listener)
    return listener
  }

  const v1 = (pattern: string) => new RegExp(`^/v1\\.0/${pattern}$`)
  /** On both versions (each with its own schema). */
  const both = (pattern: string) => new RegExp(`^/(?:v1\\.0|beta)/${pattern}$`)
  const EXTENSIONS = 'identity/customAuthenticationExtensions'
  const LISTENERS = 'identity/authenticationEventListeners'
  const POLICIES = 'policies/claimsMappingPolicies'
  const routes: readonly Route[] = [
    {
      pattern: v1('organization'),
      methods: {
        GET: (call) =>
          list(
            call,
            [
              {
                id: stand.state.tenantId,
                tenantType: stand.state.tenantType,
                displayName: 'Contoso',
              },
            ],
            'organization',
          ),
      },
    },
    {
      pattern: v1('applications'),
      methods: {
        GET: (call) =>
          list(
            call,
            stand.state.applications.map((a) => withDefaults(a)),
            'applications',
          ),
        POST: (call) => entity(call, createApplication(call.body), 'applications', 201),
      },
    },
    {
      pattern: v1(String.raw`applications(?:/([^/()]+)|\((appId|uniqueName)='([^']*)'\))`),
      methods: {
        GET: (call) =>
          entity(
            call,
            withDefaults(
              findApplication(call.match),
              /\bkeyCredentials\b/.test(call.url.searchParams.get('$select') ?? ''),
            ),
            'applications',
          ),
        PATCH: (call) => {
          // Upsert by uniqueName (application-upsert.md): create when absent, if asked to.
          const [, , key, value = ''] = call.match
          const absent =
            key === 'uniqueName' && !stand.state.applications.some((a) => same(a.uniqueName, value))
          if (!absent || !/\bcreate-if-missing\b/i.test(call.prefer))
            return patchApplication(findApplication(call.match), call.body)
          const post = objectBody(call.body)
          if (post.uniqueName !== undefined && post.uniqueName !== value)
            throw bad(
              `Property 'uniqueName' is ${JSON.stringify(post.uniqueName)} in the body and '${value}' in the URL.`,
            )
          return entity(
            call,
            withDefaults(createApplication({ ...post, uniqueName: value })),
            'applications',
            201,
          )
        },
        DELETE: (call) => {
          const app = findApplication(call.match)
          const s = stand.state
          remove(s.applications, (o) => o !== app)
          for (const sp of s.servicePrincipals.filter((o) => same(o.appId, app.appId)))
            deleteServicePrincipal(sp)
          return noContent
        },
      },
    },
    {
      pattern: v1(`applications/([^/()]+)/extensionProperties`),
      methods: {
        GET: (call) => {
          const app = byId(stand.state.applications, call.match[1])
          return list(
            call,
            stand.state.extensionProperties.filter((p) => p.appObjectId === app.id),
            `applications('${app.id}')/extensionProperties`,
          )
        },
        POST: (call) => {
          const app = byId(stand.state.applications, call.match[1])
          return entity(
            call,
            createExtensionProperty(app, call.body),
            `applications('${app.id}')/extensionProperties`,
            201,
          )
        },
      },
    },
    {
      pattern: v1('servicePrincipals'),
      methods: {
        GET: (call) => list(call, stand.state.servicePrincipals, 'servicePrincipals'),
        POST: (call) => entity(call, createServicePrincipal(call.body), 'servicePrincipals', 201),
      },
    },
    {
      pattern: v1(`servicePrincipals${SP_KEY}`),
      methods: {
        GET: (call) => entity(call, spOf(call.match), 'servicePrincipals'),
        PATCH: (call) => patchServicePrincipal(spOf(call.match), call.body),
        DELETE: (call) => {
          deleteServicePrincipal(spOf(call.match))
          return noContent
        },
      },
    },
    {
      pattern: v1(`servicePrincipals${SP_KEY}/appRoleAssignments`),
      methods: {
        GET: (call) => {
          const sp = spOf(call.match)
          return list(
            call,
            stand.state.appRoleAssignments.filter((a) => a.principalId === sp.id),
            `servicePrincipals('${sp.id}')/appRoleAssignments`,
          )
        },
        POST: (call) => {
          const sp = spOf(call.match)
          return entity(
            call,
            assignAppRole(sp, call.body),
            `servicePrincipals('${sp.id}')/appRoleAssignments`,
            201,
          )
        },
      },
    },
    {
      pattern: v1(`servicePrincipals${SP_KEY}/appRoleAssignments/([^/]+)`),
      methods: {
        GET: (call) => {
          const sp = spOf(call.match)
          const own = stand.state.appRoleAssignments.filter((a) => a.principalId === sp.id)
          return entity(
            call,
            byId(own, call.match[3]),
            `servicePrincipals('${sp.id}')/appRoleAssignments`,
          )
        },
        DELETE: (call) => {
          const sp = spOf(call.match)
          const s = stand.state
          const own = s.appRoleAssignments.filter((a) => a.principalId === sp.id)
          const assignment = byId(own, call.match[3])
          remove(s.appRoleAssignments, (a) => a !== assignment)
          return noContent
        },
      },
    },
    {
      pattern: v1(`servicePrincipals${SP_KEY}/claimsMappingPolicies`),
      methods: {
        GET: (call) => {
          const sp = spOf(call.match)
          const s = stand.state
          const ids = s.policyAssignments
            .filter((a) => a.servicePrincipalId === sp.id)
            .map((a) => a.policyId)
          return list(
            call,
            s.claimsMappingPolicies.filter((p) => ids.includes(p.id)),
            `servicePrincipals('${sp.id}')/claimsMappingPolicies`,
          )
        },
      },
    },
    {
      pattern: v1(`servicePrincipals${SP_KEY}/claimsMappingPolicies/\\$ref`),
      methods: { POST: (call) => assignPolicy(spOf(call.match), call.body) },
    },
    {
      pattern: v1(`servicePrincipals${SP_KEY}/claimsMappingPolicies/([^/]+)/\\$ref`),
      methods: {
        DELETE: (call) => {
          const sp = spOf(call.match)
          const policyId = call.match[3]
          const s = stand.state
          const assignment = s.policyAssignments.find(
            (a) => a.servicePrincipalId === sp.id && a.policyId === policyId,
          )
          if (assignment === undefined) throw notFound(policyId ?? '')
          remove(s.policyAssignments, (a) => a !== assignment)
          return noContent
        },
      },
    },
    {
      pattern: v1(POLICIES),
      methods: {
        GET: (call) => list(call, stand.state.claimsMappingPolicies, POLICIES),
        POST: (call) => entity(call, createPolicy(call.body), POLICIES, 201),
      },
    },
    {
      pattern: v1(`${POLICIES}/([^/]+)`),
      methods: {
        GET: (call) =>
          entity(call, byId(stand.state.claimsMappingPolicies, call.match[1]), POLICIES),
        PATCH: (call) =>
          patchPolicy(byId(stand.state.claimsMappingPolicies, call.match[1]), call.body),
        DELETE: (call) => {
          const s = stand.state
          const policy = byId(s.claimsMappingPolicies, call.match[1])
          remove(s.claimsMappingPolicies, (p) => p !== policy)
          remove(s.policyAssignments, (a) => a.policyId !== policy.id)
          return noContent
        },
      },
    },
    {
      pattern: both(EXTENSIONS),
      methods: {
        GET: (call) =>
          list(
            call,
            stand.state.extensions.filter((e) => visibleAt(call.version, e)),
            EXTENSIONS,
          ),
        POST: (call) => entity(call, createExtension(call.body, call.version), EXTENSIONS, 201),
      },
    },
    {
      pattern: both(`${EXTENSIONS}/([^/]+)`),
      methods: {
        GET: (call) => entity(call, visible(call, stand.state.extensions), EXTENSIONS),
        PATCH: (call) => {
          const extension = visible(call, stand.state.extensions)
          return patchTyped(
            extension,
            call.body,
            (patch) => {
              knownType(patch, call.version)
              knownProperties(patch, 'extension', 'v1.0', typeName(extension))
            },
            validateExtension,
          )
        },
        DELETE: (call) => {
          const extension = visible(call, stand.state.extensions)
          remove(stand.state.extensions, (e) => e !== extension)
          return noContent
        },
      },
    },
    {
      pattern: both(LISTENERS),
      methods: {
        GET: (call) =>
          list(
            call,
            stand.state.listeners
              .filter((l) => visibleAt(call.version, l))
              .map((l) => listenerAt(call.version, l)),
            LISTENERS,
          ),
        POST: (call) =>
          entity(
            call,
            listenerAt(call.version, createListener(call.body, call.version)),
            LISTENERS,
            201,
          ),
      },
    },
    {
      pattern: both(`${LISTENERS}/([^/]+)`),
      methods: {
        GET: (call) =>
          entity(call, listenerAt(call.version, visible(call, stand.state.listeners)), LISTENERS),
        PATCH: (call) =>
          patchTyped(
            visible(call, stand.state.listeners),
            call.body,
            (patch) => {
              knownType(patch, call.version)
              knownListenerProperties(patch, call.version)
            },
            (next) =>
              validateListener(next, stand.state.extensions, stand.state.extensionProperties),
          ),
        DELETE: (call) => {
          const listener = byId(stand.state.listeners, call.match[1])
          remove(stand.state.listeners, (l) => l !== listener)
          return noContent
        },
      },
    },
    {
      pattern: /^\/beta\/auditLogs\/signIns$/,
      methods: {
        GET: (call) =>
          list(
            call,
            [...stand.state.signIns].sort(
              (a, b) =>
                Date.parse(String(b.createdDateTime)) - Date.parse(String(a.createdDateTime)),
            ),
            'auditLogs/signIns',
          ),
      },
    },
    {
      pattern: both(`${EXTENSIONS}/([^/]+)/validateAuthenticationConfiguration`),
      methods: {
        POST: (call) => ({
          // (an extension of a beta-only type is unknown on v1.0)
          ...(visible(call, stand.state.extensions) && {}),
          status: 200,
          body: {
            '@odata.context': context(
              call,
              'microsoft.graph.authenticationConfigurationValidation',
            ),
            ...validateConfiguration(byId(stand.state.extensions, call.match[1])),
          },
        }),
      },
    },
  ]

  const route = (method: string, path: string, url: URL, body: unknown, prefer: string): Reply => {
    const [, version = '', ...segments] = path.split('/')
    if (version !== 'v1.0' && version !== 'beta')
      throw bad(`Invalid version: ${version}`, 'BadRequest')
    for (const { pattern, methods } of routes) {
      const match = pattern.exec(path)
      if (match === null) continue
      const handler = methods[method]
      if (handler === undefined)
        throw new GraphError(
          405,
          'Request_BadRequest',
          'Specified HTTP method is not allowed for the request uri.',
          { allow: Object.keys(methods).join(', ') },
        )
      return handler({ method, url, version, body, match, prefer })
    }
    throw bad(`Resource not found for the segment '${unknownSegment(segments)}'.`, 'BadRequest')
  }

  const isDenied = (method: string, path: string) =>
    [...stand.denied].some((entry) => {
      const spaced = /^([A-Z]+) (\/.*)$/.exec(entry)
      if (spaced === null) return path.startsWith(entry)
      return spaced[1] === method && path.startsWith(spaced[2] ?? '')
    })

  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', stand.origin)
    const method = req.method ?? 'GET'
    const requestId = randomUUID()
    const header = req.headers['client-request-id']
    const clientRequestId = typeof header === 'string' && header !== '' ? header : randomUUID()
    let path = url.pathname
    let pathError = false
    try {
      path = url.pathname
        .split('/')
        .map((s) => decodeURIComponent(s))
        .join('/')
    } catch {
      pathError = true
    }
    let parsed: unknown
    let recordedBody: unknown

    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const common = { 'request-id': requestId, 'client-request-id': clientRequestId, ...headers }
      if (body === undefined) res.writeHead(status, common).end()
      else
        res.writeHead(status, { 'content-type': CONTENT_TYPE, ...common }).end(JSON.stringify(body))
    }
    const sendError = (error: GraphError) =>
      send(
        error.status,
        {
          error: {
            code: error.code,
            message: error.message,
            innerError: {
              date: now(),
              'request-id': requestId,
              'client-request-id': clientRequestId,
            },
          },
        },
        error.headers,
      )

    res.on('finish', () => {
      const recorded: RecordedGraphRequest = {
        method,
        path,
        query: url.search.replace(/^\?/, ''),
        status: res.statusCode,
      }
      if (method !== 'GET' && recordedBody !== undefined) recorded.body = recordedBody
      if (typeof req.headers.prefer === 'string') recorded.prefer = req.headers.prefer
      stand.requests.push(recorded)
    })

    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) chunks.push(chunk)
    })
    req.on('end', () => {
      if (size <= MAX_BODY) {
        try {
          recordedBody = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch {
          recordedBody = undefined
        }
      }
      const answer = async () => {
        if (throttle.remaining > 0) {
          throttle.remaining -= 1
          throw new GraphError(429, 'TooManyRequests', 'Too many requests.', {
            'retry-after': String(throttle.retryAfterSeconds),
          })
        }
        const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
        if (token === undefined)
          throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.')
        const check = await options.tokens.verifyAccessToken(token, stand.origin)
        if (!check.ok)
          throw new GraphError(
            401,
            'InvalidAuthenticationToken',
            `Access token validation failure: ${check.reason}`,
          )
        if (isDenied(method, path))
          throw new GraphError(
            403,
            'Authorization_RequestDenied',
            'Insufficient privileges to complete the operation.',
          )
        if (pathError) throw bad('The request URI is not valid.', 'BadRequest')
        if (size > MAX_BODY)
          throw new GraphError(413, 'RequestEntityTooLarge', 'The request body exceeds 1 MiB.')
        const text = Buffer.concat(chunks).toString('utf8')
        if (text.trim() !== '') {
          const type = req.headers['content-type'] ?? ''
          if (!/^application\/json\b/i.test(type))
            throw new GraphError(
              415,
              'UnsupportedMediaType',
              `Content-Type '${type}' is not supported: send application/json.`,
            )
          try {
            parsed = JSON.parse(text)
          } catch {
            throw bad(
              'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.',
              'BadRequest',
            )
          }
        }
        const prefer = req.headers.prefer
        const reply = route(method, path, url, parsed, typeof prefer === 'string' ? prefer : '')
        send(reply.status, reply.body)
      }
      answer().catch((error: unknown) => {
        if (res.headersSent) return
        sendError(
          error instanceof GraphError
            ? error
            : new GraphError(
                500,
                'UnknownError',
                error instanceof Error ? error.message : String(error),
              ),
        )
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))

  const stand: EntraGraphStandIn = {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state: options.state,
    pageSize: 100,
    denied: new Set(),
    throttleNext(count, retryAfterSeconds = 0) {
      throttle.remaining = count
      throttle.retryAfterSeconds = retryAfterSeconds
    },
    requests: [],
    writes() {
      return stand.requests.filter((r) => r.method !== 'GET')
    },
    close() {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return stand
}
