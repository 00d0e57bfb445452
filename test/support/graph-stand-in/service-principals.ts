// Graph v1.0's service principals and their app role assignments (application permissions, e.g.
// CustomAuthenticationExtension.Receive.Payload) for the stand-in core, in the directory tenant:
//   GET|POST /v1.0/servicePrincipals                              POST { appId } of an app, or of Graph / 99045fe1
//   GET|PATCH|DELETE /v1.0/servicePrincipals/{id} | (appId='…')
//   GET|POST /v1.0/servicePrincipals/{sp}/appRoleAssignments      the SP's grants (principalId = sp)
//   GET|DELETE /v1.0/servicePrincipals/{sp}/appRoleAssignments/{id}
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
  now,
  objectBody,
  readOnly,
  remove,
  same,
  SP_KEY,
  type DirectoryContext,
  type EntraGraphState,
  type GraphObject,
} from './directory.js'
import { knownProperties } from './entra-schema.js'
import type { GraphAnswer, GraphResource } from './graph-answers.js'

/** Removes a service principal with its grants and policy assignments. */
export function deleteServicePrincipal(s: EntraGraphState, sp: GraphObject): void {
  remove(s.servicePrincipals, (o) => o !== sp)
  remove(s.appRoleAssignments, (a) => a.principalId !== sp.id && a.resourceId !== sp.id)
  remove(s.policyAssignments, (a) => a.servicePrincipalId !== sp.id)
}

/** The service principal a path's SP_KEY groups name: by id, or by appId. */
export function servicePrincipalOf(s: EntraGraphState, match: RegExpExecArray): GraphObject {
  const [, id, appId] = match
  const sp =
    id !== undefined
      ? s.servicePrincipals.find((o) => o.id === id)
      : s.servicePrincipals.find((o) => same(o.appId, appId))
  if (sp === undefined) throw notFound(id ?? `appId='${appId}'`)
  return sp
}

export function servicePrincipalsResource(context: DirectoryContext): GraphResource {
  const tenant = context.tenant
  const spOf = (match: RegExpExecArray) => servicePrincipalOf(tenant(), match)

  const createServicePrincipal = (body: unknown): GraphObject => {
    const post = objectBody(body)
    knownProperties(post, 'servicePrincipal', 'v1.0')
    readOnly(post, undefined, ['id'])
    const appId = post.appId
    if (typeof appId !== 'string') throw bad("Property 'appId' is required.")
    const s = tenant()
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

  const patchServicePrincipal = (sp: GraphObject, body: unknown): GraphAnswer => {
    const patch = objectBody(body)
    knownProperties(patch, 'servicePrincipal', 'v1.0')
    readOnly(patch, sp, ['id', 'appId'])
    if (patch.accountEnabled !== undefined && typeof patch.accountEnabled !== 'boolean')
      throw bad("Property 'accountEnabled' must be a boolean.")
    Object.assign(sp, patch)
    return noContent
  }

  const assignAppRole = (sp: GraphObject, body: unknown): GraphObject => {
    const post = objectBody(body)
    knownProperties(post, 'appRoleAssignment', 'v1.0')
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
    const s = tenant()
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

  const ALL = /^\/v1\.0\/servicePrincipals$/
  const ONE = new RegExp(`^/v1\\.0/servicePrincipals${SP_KEY}$`)
  const GRANTS = new RegExp(`^/v1\\.0/servicePrincipals${SP_KEY}/appRoleAssignments$`)
  const GRANT = new RegExp(`^/v1\\.0/servicePrincipals${SP_KEY}/appRoleAssignments/([^/]+)$`)
  const grantsOf = (sp: GraphObject) =>
    tenant().appRoleAssignments.filter((a) => a.principalId === sp.id)
  return {
    routes: [
      {
        method: 'GET',
        path: ALL,
        query: LIST_QUERY,
        answer: (call, _m, origin) =>
          list(call, origin, tenant().servicePrincipals, 'servicePrincipals', context.pageSize()),
      },
      {
        method: 'POST',
        path: ALL,
        unsupportedQuery: [],
        answer: (call, _m, origin) =>
          entity(call, origin, createServicePrincipal(call.body), 'servicePrincipals', 201),
      },
      {
        method: 'GET',
        path: ONE,
        query: ENTITY_QUERY,
        answer: (call, match, origin) => entity(call, origin, spOf(match), 'servicePrincipals'),
      },
      {
        method: 'PATCH',
        path: ONE,
        unsupportedQuery: [],
        answer: (call, match) => patchServicePrincipal(spOf(match), call.body),
      },
      {
        method: 'DELETE',
        path: ONE,
        unsupportedQuery: [],
        answer(_call, match) {
          deleteServicePrincipal(tenant(), spOf(match))
          return noContent
        },
      },
      {
        method: 'GET',
        path: GRANTS,
        query: LIST_QUERY,
        answer(call, match, origin) {
          const sp = spOf(match)
          return list(
            call,
            origin,
            grantsOf(sp),
            `servicePrincipals('${sp.id}')/appRoleAssignments`,
            context.pageSize(),
          )
        },
      },
      {
        method: 'POST',
        path: GRANTS,
        unsupportedQuery: [],
        answer(call, match, origin) {
          const sp = spOf(match)
          return entity(
            call,
            origin,
            assignAppRole(sp, call.body),
            `servicePrincipals('${sp.id}')/appRoleAssignments`,
            201,
          )
        },
      },
      {
        method: 'GET',
        path: GRANT,
        query: ENTITY_QUERY,
        answer(call, match, origin) {
          const sp = spOf(match)
          return entity(
            call,
            origin,
            byId(grantsOf(sp), match[3]),
            `servicePrincipals('${sp.id}')/appRoleAssignments`,
          )
        },
      },
      {
        method: 'DELETE',
        path: GRANT,
        unsupportedQuery: [],
        answer(_call, match) {
          const assignment = byId(grantsOf(spOf(match)), match[3])
          remove(tenant().appRoleAssignments, (a) => a !== assignment)
          return noContent
        },
      },
    ],
  }
}
