// Graph's custom authentication extensions and authentication event listeners for the stand-in
// core, in the directory tenant, on both API versions (each with its own schema: entra-schema.ts):
//   GET|POST /{v1.0|beta}/identity/customAuthenticationExtensions     POST 403 without the 99045fe1 SP (trap 12)
//   GET|PATCH|DELETE /{v1.0|beta}/identity/customAuthenticationExtensions/{id}
//   POST   /{v1.0|beta}/identity/customAuthenticationExtensions/{id}/validateAuthenticationConfiguration
//   GET|POST /{v1.0|beta}/identity/authenticationEventListeners
//   GET|PATCH|DELETE /{v1.0|beta}/identity/authenticationEventListeners/{id}
import { randomUUID } from 'node:crypto'
import {
  AUTH_EVENTS_APP_ID,
  bad,
  byId,
  entity,
  ENTITY_QUERY,
  GRAPH_APP_ID,
  isRecord,
  list,
  LIST_QUERY,
  noContent,
  notFound,
  objectBody,
  readOnly,
  RECEIVE_PAYLOAD_ROLE_ID,
  remove,
  RESOURCE_ID,
  same,
  type DirectoryContext,
  type GraphObject,
} from './directory.js'
import {
  knownListenerProperties,
  knownProperties,
  knownType,
  listenerAt,
  typeName,
  validateExtension,
  validateListener,
  visibleAt,
} from './entra-schema.js'
import {
  GraphStandInError,
  type GraphAnswer,
  type GraphApiVersion,
  type GraphCall,
  type GraphResource,
} from './graph-answers.js'

const MAX_EXTENSIONS = 100
const MAX_LISTENERS = 250
const EXTENSIONS = 'identity/customAuthenticationExtensions'
const LISTENERS = 'identity/authenticationEventListeners'

export function authenticationEventsResource(context: DirectoryContext): GraphResource {
  const tenant = context.tenant

  /** The object `id` names, if its type exists on the call's version. */
  const visible = (call: GraphCall, items: readonly GraphObject[], id: string | undefined) => {
    const found = byId(items, id)
    if (!visibleAt(call.version, found)) throw notFound(id ?? '')
    return found
  }

  const createExtension = (body: unknown, version: GraphApiVersion): GraphObject => {
    const post = objectBody(body)
    knownType(post, version)
    knownProperties(post, 'extension', version, typeName(post))
    readOnly(post, undefined, ['id'])
    if (post['@odata.type'] === undefined) throw bad("Property '@odata.type' is required.")
    const extension: GraphObject = { id: randomUUID(), ...post }
    validateExtension(extension)
    const s = tenant()
    if (s.extensions.length >= MAX_EXTENSIONS)
      throw bad(
        `The tenant already has the maximum of ${MAX_EXTENSIONS} custom authentication extensions.`,
      )
    if (!s.servicePrincipals.some((sp) => same(sp.appId, AUTH_EVENTS_APP_ID)))
      throw new GraphStandInError(
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
  ): GraphAnswer => {
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
    const s = tenant()
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

  const createListener = (body: unknown, version: GraphApiVersion): GraphObject => {
    const post = objectBody(body)
    knownType(post, version)
    knownListenerProperties(post, version)
    readOnly(post, undefined, ['id'])
    const listener: GraphObject = { id: randomUUID(), ...post }
    const s = tenant()
    validateListener(listener, s.extensions, s.extensionProperties)
    if (s.listeners.length >= MAX_LISTENERS)
      throw bad(
        `The tenant already has the maximum of ${MAX_LISTENERS} authentication event listeners.`,
      )
    s.listeners.push(listener)
    return listener
  }

  /** On both versions (each with its own schema). */
  const both = (pattern: string) => new RegExp(`^/(?:v1\\.0|beta)/${pattern}$`)
  const ALL_EXTENSIONS = both(EXTENSIONS)
  const ONE_EXTENSION = both(`${EXTENSIONS}/([^/]+)`)
  const VALIDATE = both(`${EXTENSIONS}/([^/]+)/validateAuthenticationConfiguration`)
  const ALL_LISTENERS = both(LISTENERS)
  const ONE_LISTENER = both(`${LISTENERS}/([^/]+)`)
  return {
    routes: [
      {
        method: 'GET',
        path: ALL_EXTENSIONS,
        query: LIST_QUERY,
        answer: (call, _m, origin) =>
          list(
            call,
            origin,
            tenant().extensions.filter((e) => visibleAt(call.version, e)),
            EXTENSIONS,
            context.pageSize(),
          ),
      },
      {
        method: 'POST',
        path: ALL_EXTENSIONS,
        unsupportedQuery: [],
        answer: (call, _m, origin) =>
          entity(call, origin, createExtension(call.body, call.version), EXTENSIONS, 201),
      },
      {
        method: 'GET',
        path: ONE_EXTENSION,
        query: ENTITY_QUERY,
        answer: (call, match, origin) =>
          entity(call, origin, visible(call, tenant().extensions, match[1]), EXTENSIONS),
      },
      {
        method: 'PATCH',
        path: ONE_EXTENSION,
        unsupportedQuery: [],
        answer(call, match) {
          const extension = visible(call, tenant().extensions, match[1])
          return patchTyped(
            extension,
            call.body,
            (patch) => {
              knownType(patch, call.version)
              knownProperties(patch, 'extension', call.version, typeName(extension))
            },
            validateExtension,
          )
        },
      },
      {
        method: 'DELETE',
        path: ONE_EXTENSION,
        unsupportedQuery: [],
        answer(call, match) {
          const extension = visible(call, tenant().extensions, match[1])
          remove(tenant().extensions, (e) => e !== extension)
          return noContent
        },
      },
      {
        method: 'POST',
        path: VALIDATE,
        unsupportedQuery: [],
        answer: (call, match, origin) => ({
          status: 200,
          body: {
            '@odata.context': `${origin}/${call.version}/$metadata#microsoft.graph.authenticationConfigurationValidation`,
            // (an extension of a beta-only type is unknown on v1.0)
            ...validateConfiguration(visible(call, tenant().extensions, match[1])),
          },
        }),
      },
      {
        method: 'GET',
        path: ALL_LISTENERS,
        query: LIST_QUERY,
        answer: (call, _m, origin) =>
          list(
            call,
            origin,
            tenant()
              .listeners.filter((l) => visibleAt(call.version, l))
              .map((l) => listenerAt(call.version, l)),
            LISTENERS,
            context.pageSize(),
          ),
      },
      {
        method: 'POST',
        path: ALL_LISTENERS,
        unsupportedQuery: [],
        answer: (call, _m, origin) =>
          entity(
            call,
            origin,
            listenerAt(call.version, createListener(call.body, call.version)),
            LISTENERS,
            201,
          ),
      },
      {
        method: 'GET',
        path: ONE_LISTENER,
        query: ENTITY_QUERY,
        answer: (call, match, origin) =>
          entity(
            call,
            origin,
            listenerAt(call.version, visible(call, tenant().listeners, match[1])),
            LISTENERS,
          ),
      },
      {
        method: 'PATCH',
        path: ONE_LISTENER,
        unsupportedQuery: [],
        answer: (call, match) =>
          patchTyped(
            visible(call, tenant().listeners, match[1]),
            call.body,
            (patch) => {
              knownType(patch, call.version)
              knownListenerProperties(patch, call.version)
            },
            (next) => validateListener(next, tenant().extensions, tenant().extensionProperties),
          ),
      },
      {
        method: 'DELETE',
        path: ONE_LISTENER,
        unsupportedQuery: [],
        answer(_call, match) {
          const listener = byId(tenant().listeners, match[1])
          remove(tenant().listeners, (l) => l !== listener)
          return noContent
        },
      },
    ],
  }
}
