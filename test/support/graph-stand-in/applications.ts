// Graph v1.0's applications for the stand-in core, kept in the directory tenant (directory.ts):
//   GET|POST /v1.0/applications                                          POST 201; makes id and appId
//   GET|PATCH|DELETE /v1.0/applications/{id} | (appId='…') | (uniqueName='…')
//                                                                        PATCH merges, `api` one level deep
//   PATCH  /v1.0/applications(uniqueName='…') with Prefer: create-if-missing   upsert: 201 with the
//          new object when absent (404 without the header), 204 when it exists (an update)
//   GET|POST /v1.0/applications/{id}/extensionProperties   directory extension properties: the
//          name given becomes extension_{appId without dashes}_{name}
// An application's signInAudience is one of SIGN_IN_AUDIENCES, AzureADMyOrg when neither the POST
// nor the seeded state names one; the two that admit personal accounts require v2 tokens. Its
// keyCredentials are checked (entra-schema.ts keyCredentialsOf); answers carry the keys only for a
// $select of keyCredentials on one application. Deleting one deletes its service principals.
import { randomUUID } from 'node:crypto'
import {
  bad,
  byId,
  entity,
  ENTITY_QUERY,
  isRecord,
  list,
  LIST_QUERY,
  noContent,
  notFound,
  now,
  objectBody,
  readOnly,
  remove,
  same,
  type DirectoryContext,
  type GraphObject,
} from './directory.js'
import {
  keyCredentialsOf,
  knownProperties,
  validateApplication,
  withDefaults,
} from './entra-schema.js'
import type { GraphAnswer, GraphResource } from './graph-answers.js'
import { deleteServicePrincipal } from './service-principals.js'

export function applicationsResource(context: DirectoryContext): GraphResource {
  const tenant = context.tenant

  const findApplication = (match: RegExpExecArray): GraphObject => {
    const [, id, key, value] = match
    const apps = tenant().applications
    const app =
      id !== undefined
        ? apps.find((a) => a.id === id)
        : apps.find((a) => key !== undefined && same(a[key], value))
    if (app === undefined) throw notFound(id ?? `${key}='${value}'`)
    return app
  }

  const patchApplication = (app: GraphObject, body: unknown): GraphAnswer => {
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
      tenant().applications.filter((o) => o !== app),
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
    validateApplication(app, tenant().applications)
    tenant().applications.push(app)
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
    if (tenant().extensionProperties.some((p) => same(p.name, full)))
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
    tenant().extensionProperties.push(property)
    return property
  }

  const ONE = /^\/v1\.0\/applications(?:\/([^/()]+)|\((appId|uniqueName)='([^']*)'\))$/
  const PROPERTIES = /^\/v1\.0\/applications\/([^/()]+)\/extensionProperties$/
  return {
    routes: [
      {
        method: 'GET',
        path: /^\/v1\.0\/applications$/,
        query: LIST_QUERY,
        answer: (call, _match, origin) =>
          list(
            call,
            origin,
            tenant().applications.map((a) => withDefaults(a)),
            'applications',
            context.pageSize(),
          ),
      },
      {
        method: 'POST',
        path: /^\/v1\.0\/applications$/,
        unsupportedQuery: [],
        answer: (call, _match, origin) =>
          entity(call, origin, createApplication(call.body), 'applications', 201),
      },
      {
        method: 'GET',
        path: ONE,
        query: ENTITY_QUERY,
        answer: (call, match, origin) =>
          entity(
            call,
            origin,
            withDefaults(
              findApplication(match),
              /\bkeyCredentials\b/.test(call.query.get('$select') ?? ''),
            ),
            'applications',
          ),
      },
      {
        method: 'PATCH',
        path: ONE,
        unsupportedQuery: [],
        answer(call, match, origin) {
          // Upsert by uniqueName (application-upsert.md): create when absent, if asked to.
          const [, , key, value = ''] = match
          const absent =
            key === 'uniqueName' && !tenant().applications.some((a) => same(a.uniqueName, value))
          if (!absent || !/\bcreate-if-missing\b/i.test(call.headers.prefer ?? ''))
            return patchApplication(findApplication(match), call.body)
          const post = objectBody(call.body)
          if (post.uniqueName !== undefined && post.uniqueName !== value)
            throw bad(
              `Property 'uniqueName' is ${JSON.stringify(post.uniqueName)} in the body and '${value}' in the URL.`,
            )
          return entity(
            call,
            origin,
            withDefaults(createApplication({ ...post, uniqueName: value })),
            'applications',
            201,
          )
        },
      },
      {
        method: 'DELETE',
        path: ONE,
        unsupportedQuery: [],
        answer(_call, match) {
          const app = findApplication(match)
          const s = tenant()
          remove(s.applications, (o) => o !== app)
          for (const sp of s.servicePrincipals.filter((o) => same(o.appId, app.appId)))
            deleteServicePrincipal(s, sp)
          return noContent
        },
      },
      {
        method: 'GET',
        path: PROPERTIES,
        query: LIST_QUERY,
        answer(call, match, origin) {
          const app = byId(tenant().applications, match[1])
          return list(
            call,
            origin,
            tenant().extensionProperties.filter((p) => p.appObjectId === app.id),
            `applications('${app.id}')/extensionProperties`,
            context.pageSize(),
          )
        },
      },
      {
        method: 'POST',
        path: PROPERTIES,
        unsupportedQuery: [],
        answer(call, match, origin) {
          const app = byId(tenant().applications, match[1])
          return entity(
            call,
            origin,
            createExtensionProperty(app, call.body),
            `applications('${app.id}')/extensionProperties`,
            201,
          )
        },
      },
    ],
  }
}
