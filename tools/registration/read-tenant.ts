// Reads what diagnose() needs from Microsoft Graph (contract §7): the tenant, the caller's
// service principal, extensions, listeners, the extension apps (application, service principal,
// app role assignments) and, for --app, the target app's claims mapping policies,
// acceptMappedClaims and signInAudience. Reads only; every call is bounded by the GraphApi client.
import type { ResourceApp, TargetApp, TenantView } from './diagnose.js'
import {
  AUTH_EVENTS_APP_ID,
  LISTENERS_READ_PATH,
  RESOURCE_ID,
  type GraphAppRoleAssignment,
  type GraphApplication,
  type GraphClaimsMappingPolicy,
  type GraphExtension,
  type GraphListener,
  type GraphOrganization,
  type GraphServicePrincipal,
} from './entra-objects.js'
import { GraphApiError, keySegment, type GraphApi } from './graph-api.js'

export async function readTenant(graph: GraphApi, targetAppId?: string): Promise<TenantView> {
  const [organization] = await graph.list<GraphOrganization>(
    '/v1.0/organization?$select=id,tenantType',
  )
  if (organization === undefined)
    throw new GraphApiError('GET', '/v1.0/organization', 'the answer names no tenant')
  const authEvents = await graph.find<GraphServicePrincipal>(
    `/v1.0/servicePrincipals(appId='${AUTH_EVENTS_APP_ID}')`,
  )
  const extensions = await graph.list<GraphExtension>(
    '/v1.0/identity/customAuthenticationExtensions',
  )
  const listeners = await graph.list<GraphListener>(LISTENERS_READ_PATH)
  const appIds = new Set<string>()
  for (const e of extensions) {
    const appId = RESOURCE_ID.exec(e.authenticationConfiguration?.resourceId ?? '')?.[2]
    if (appId !== undefined) appIds.add(appId.toLowerCase())
  }
  const resourceApps: Record<string, ResourceApp> = {}
  for (const appId of appIds) resourceApps[appId] = await readResourceApp(graph, appId)
  const targetApp = targetAppId === undefined ? undefined : await readTargetApp(graph, targetAppId)
  return {
    organization,
    authEventsServicePrincipal: authEvents !== undefined,
    extensions,
    listeners,
    resourceApps,
    targetApp,
  }
}

async function readResourceApp(graph: GraphApi, appId: string): Promise<ResourceApp> {
  const application = await graph.find<GraphApplication>(
    `/v1.0/applications(appId='${keySegment(appId)}')`,
  )
  const sp = await graph.find<GraphServicePrincipal>(
    `/v1.0/servicePrincipals(appId='${keySegment(appId)}')`,
  )
  const appRoleAssignments =
    sp === undefined
      ? undefined
      : await graph.list<GraphAppRoleAssignment>(
          `/v1.0/servicePrincipals/${encodeURIComponent(sp.id)}/appRoleAssignments`,
        )
  return { appId, application, servicePrincipal: sp, appRoleAssignments }
}

async function readTargetApp(graph: GraphApi, appId: string): Promise<TargetApp> {
  const sp = await graph.find<GraphServicePrincipal>(
    `/v1.0/servicePrincipals(appId='${keySegment(appId)}')`,
  )
  if (sp === undefined) return { appId, servicePrincipalFound: false, claimsMappingPolicies: [] }
  const policies = await graph.list<GraphClaimsMappingPolicy>(
    `/v1.0/servicePrincipals/${encodeURIComponent(sp.id)}/claimsMappingPolicies`,
  )
  // A multi-tenant app's registration lives in its home tenant: then acceptMappedClaims is unknown.
  const app = await graph.find<GraphApplication>(`/v1.0/applications(appId='${keySegment(appId)}')`)
  return {
    appId,
    servicePrincipalFound: true,
    claimsMappingPolicies: policies,
    acceptMappedClaims: app === undefined ? undefined : app.api?.acceptMappedClaims === true,
    signInAudience: app?.signInAudience ?? undefined,
  }
}
