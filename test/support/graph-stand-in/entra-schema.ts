// The schema of the directory objects the registration tools write, per API version, as Microsoft
// publishes it (msgraph-metadata, and the @microsoft/microsoft-graph-types{,-beta} packages): a
// request body with a property its version lacks answers 400 Request_BadRequest "The property '…'
// does not exist on type '…'", and answers carry only the version's properties. Listeners are
// where v1.0 and beta differ: priority and conditions.applications.includeAllApplications exist
// only on beta (defaults 500 and false). OnPasswordSubmit's onPasswordSubmitCustomExtension,
// onPasswordSubmitListener and onPasswordMigrationCustomExtensionHandler exist only on beta: v1.0
// refuses them in a body (400) and leaves them out of its answers (404 by ID). Also the checks
// Graph makes of an application, its keyCredentials, a claims mapping policy's definition, an
// extension and a listener. Used by the resource modules applications.ts, service-principals.ts
// and authentication-events.ts.
import type * as v1 from '@microsoft/microsoft-graph-types'
import type * as beta from '@microsoft/microsoft-graph-types-beta'
import { createHash, X509Certificate } from 'node:crypto'
import { bad, GUID, isRecord, RESOURCE_ID, same, type GraphObject } from './directory.js'
import type { GraphApiVersion } from './graph-answers.js'

/** customAuthenticationExtension type -> the event it serves. */
export const EXTENSION_EVENTS: Readonly<Record<string, string>> = {
  '#microsoft.graph.onTokenIssuanceStartCustomExtension': 'tokenIssuanceStart',
  '#microsoft.graph.onAttributeCollectionStartCustomExtension': 'attributeCollectionStart',
  '#microsoft.graph.onAttributeCollectionSubmitCustomExtension': 'attributeCollectionSubmit',
  '#microsoft.graph.onOtpSendCustomExtension': 'otpSend',
  '#microsoft.graph.onPasswordSubmitCustomExtension': 'passwordSubmit',
}
const TOKEN_EXTENSION = '#microsoft.graph.onTokenIssuanceStartCustomExtension'

/** authenticationEventListener type -> its handler type and event. */
export const LISTENER_TYPES: Readonly<Record<string, { handler: string; event: string }>> = {
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
export const BETA_ONLY = new Set([
  '#microsoft.graph.onPasswordSubmitCustomExtension',
  '#microsoft.graph.onPasswordSubmitListener',
  '#microsoft.graph.onPasswordMigrationCustomExtensionHandler',
])
/** A body naming a type its version lacks: refused as Graph refuses an unknown type. */
export function knownType(body: unknown, version: GraphApiVersion) {
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
export const visibleAt = (version: GraphApiVersion, object: GraphObject) =>
  version === 'beta' || !BETA_ONLY.has(String(object['@odata.type']))
const TOKEN_LISTENER = '#microsoft.graph.onTokenIssuanceStartListener'

/** Names of T's properties: a name Microsoft's published types lack is a compile error. */
const propertiesOf =
  <T>() =>
  <const N extends readonly (keyof T & string)[]>(...names: N): N =>
    names

/**
 * beta's onPasswordMigrationCustomExtensionHandler: in Graph beta's schema, not yet in the beta
 * types package (as tools/registration/graph-types.ts says), so declared from its base type.
 */
type PasswordMigrationHandler = beta.OnTokenIssuanceStartCustomExtensionHandler & {
  migrationPropertyId?: string | null
}

/**
 * The properties a request body may name, per type and API version (Microsoft's published
 * schema, each list checked against @microsoft/microsoft-graph-types for v1.0 and -beta for beta:
 * navigation properties and the server-made ones left out). `@odata.type` is always allowed.
 */
export const PROPERTIES = {
  application: {
    type: 'application',
    'v1.0': propertiesOf<v1.Application>()(
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
    ),
  },
  extension: {
    type: 'customAuthenticationExtension',
    'v1.0': propertiesOf<v1.OnTokenIssuanceStartCustomExtension>()(
      'id',
      'authenticationConfiguration',
      'behaviorOnError',
      'claimsForTokenConfiguration',
      'clientConfiguration',
      'description',
      'displayName',
      'endpointConfiguration',
    ),
    beta: propertiesOf<beta.OnTokenIssuanceStartCustomExtension>()(
      'id',
      'authenticationConfiguration',
      'behaviorOnError',
      'claimsForTokenConfiguration',
      'clientConfiguration',
      'description',
      'displayName',
      'endpointConfiguration',
    ),
  },
  servicePrincipal: {
    type: 'servicePrincipal',
    'v1.0': propertiesOf<v1.ServicePrincipal>()(
      'id',
      'deletedDateTime',
      'accountEnabled',
      'addIns',
      'alternativeNames',
      'appDescription',
      'appDisplayName',
      'appId',
      'applicationTemplateId',
      'appOwnerOrganizationId',
      'appRoleAssignmentRequired',
      'appRoles',
      'customSecurityAttributes',
      'description',
      'disabledByMicrosoftStatus',
      'displayName',
      'homepage',
      'info',
      'keyCredentials',
      'loginUrl',
      'logoutUrl',
      'notes',
      'notificationEmailAddresses',
      'oauth2PermissionScopes',
      'passwordCredentials',
      'preferredSingleSignOnMode',
      'preferredTokenSigningKeyThumbprint',
      'replyUrls',
      'resourceSpecificApplicationPermissions',
      'samlSingleSignOnSettings',
      'servicePrincipalNames',
      'servicePrincipalType',
      'signInAudience',
      'tags',
      'tokenEncryptionKeyId',
      'verifiedPublisher',
    ),
  },
  appRoleAssignment: {
    type: 'appRoleAssignment',
    'v1.0': propertiesOf<v1.AppRoleAssignment>()(
      'id',
      'deletedDateTime',
      'appRoleId',
      'createdDateTime',
      'principalDisplayName',
      'principalId',
      'principalType',
      'resourceDisplayName',
      'resourceId',
    ),
  },
  claimsMappingPolicy: {
    type: 'claimsMappingPolicy',
    'v1.0': propertiesOf<v1.ClaimsMappingPolicy>()(
      'id',
      'deletedDateTime',
      'description',
      'displayName',
      'definition',
      'isOrganizationDefault',
    ),
  },
  listener: {
    type: 'authenticationEventListener',
    'v1.0': propertiesOf<v1.OnTokenIssuanceStartListener>()(
      'id',
      'authenticationEventsFlowId',
      'conditions',
      'handler',
    ),
    beta: propertiesOf<beta.OnTokenIssuanceStartListener>()(
      'id',
      'authenticationEventsFlowId',
      'conditions',
      'handler',
      'priority',
    ),
  },
  conditions: {
    type: 'authenticationConditions',
    'v1.0': propertiesOf<v1.AuthenticationConditions>()('applications'),
  },
  applications: {
    type: 'authenticationConditionsApplications',
    'v1.0': propertiesOf<v1.AuthenticationConditionsApplications>()('includeApplications'),
    beta: propertiesOf<beta.AuthenticationConditionsApplications>()(
      'includeApplications',
      'includeAllApplications',
    ),
  },
  handler: {
    type: 'authenticationEventHandler',
    'v1.0': propertiesOf<v1.OnTokenIssuanceStartCustomExtensionHandler>()(
      'customExtension',
      'configuration',
    ),
    beta: propertiesOf<PasswordMigrationHandler>()(
      'customExtension',
      'configuration',
      'migrationPropertyId',
    ),
  },
  configuration: {
    type: 'customExtensionOverwriteConfiguration',
    'v1.0': propertiesOf<v1.CustomExtensionOverwriteConfiguration>()(
      'behaviorOnError',
      'clientConfiguration',
    ),
  },
} as const satisfies Record<
  string,
  { readonly type: string; readonly 'v1.0': readonly string[]; readonly beta?: readonly string[] }
>

/** An object's @odata.type without its namespace, to name it in an error. */
export const typeName = (object: Record<string, unknown>) =>
  typeof object['@odata.type'] === 'string'
    ? object['@odata.type'].replace(/^#?microsoft\.graph\./, '')
    : undefined

/** A 400 for the first property of `body` that `schema` lacks on `version`, as Graph answers. */
export function knownProperties(
  body: unknown,
  schema: keyof typeof PROPERTIES,
  version: GraphApiVersion,
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
export function knownListenerProperties(body: Record<string, unknown>, version: GraphApiVersion) {
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
export function listenerAt(version: GraphApiVersion, listener: GraphObject): GraphObject {
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
export const withDefaults = (app: GraphObject, keys = false): GraphObject => {
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
export function keyCredentialsOf(value: unknown, stored: unknown): GraphObject[] {
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

export function validateIdentifierUris(app: GraphObject, others: readonly GraphObject[]) {
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

export function validateApplication(app: GraphObject, others: readonly GraphObject[]) {
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

export function validateDefinition(definition: unknown) {
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

export function validateExtension(extension: GraphObject) {
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

export function validateListener(
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
