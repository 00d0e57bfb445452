// What the tenant holds of a registration, read through Microsoft Graph for plan() (contract §7):
// the tenant, the caller's and Graph's service principals, the extension app (by --extension-app,
// by the uniqueName register gives it, or, for doctor, by the extensions that point at the
// endpoint), its service principal and grants, the extensions and listeners, claims mapping
// policies, the target apps, and, for OnPasswordSubmit, the b2c-extensions-app and its extension
// properties. Reads only; every call is bounded by the GraphClient.
import type { Desired } from './desired.js'
import {
  AUTH_EVENTS_APP_ID,
  GRAPH_APP_ID,
  LISTENERS_READ_PATH,
  RESOURCE_ID,
  routeOfTargetUrl,
} from './entra-objects.js'
import { keySegment, type GraphClient } from '../graph/client.js'
import type {
  ReadAppRoleAssignment,
  ReadApplication,
  ReadClaimsMappingPolicy,
  ReadExtension,
  ReadExtensionProperty,
  ReadListener,
  ReadOrganization,
  ReadServicePrincipal,
} from './graph-types.js'

/** The display name Entra gives the app that holds a tenant's directory extensions. */
export const B2C_EXTENSIONS_APP_NAME =
  'b2c-extensions-app. Do not modify. Used by AADB2C for storing user data.'

export interface TargetApp {
  readonly appId: string
  readonly servicePrincipal: ReadServicePrincipal | undefined
  /** The policies assigned to its service principal. */
  readonly claimsMappingPolicies: readonly ReadClaimsMappingPolicy[]
  /** Its registration; undefined when it lives in another tenant (a multi-tenant app). */
  readonly application: ReadApplication | undefined
}

export interface Tenant {
  /** When it was read (what a certificate's expiry is measured from). */
  readonly readAt: Date
  /** GRAPH_BASE_URL's origin (the @odata.id of a $ref names it). */
  readonly graphOrigin: string
  readonly organization: ReadOrganization
  readonly authEventsServicePrincipal: ReadServicePrincipal | undefined
  readonly graphServicePrincipal: ReadServicePrincipal | undefined
  readonly extensionApp: ReadApplication | undefined
  readonly extensionServicePrincipal: ReadServicePrincipal | undefined
  /** The extension service principal's app role assignments (the consent). */
  readonly extensionGrants: readonly ReadAppRoleAssignment[]
  readonly extensions: readonly ReadExtension[]
  readonly listeners: readonly ReadListener[]
  readonly claimsMappingPolicies: readonly ReadClaimsMappingPolicy[]
  /** By appId as given. */
  readonly targetApps: Readonly<Record<string, TargetApp>>
  /** OnPasswordSubmit: the b2c-extensions-app (null: looked for, not there) and its properties. */
  readonly b2cExtensionsApp:
    | { readonly app: ReadApplication; readonly properties: readonly ReadExtensionProperty[] }
    | null
    | undefined
}

export class TenantReadError extends Error {
  override readonly name = 'TenantReadError'
}

export interface ReadOptions {
  /** Doctor: without --extension-app or register's uniqueName, the app the extensions at the host name. */
  readonly appFromExtensions?: boolean
}

const byAppId = (kind: 'applications' | 'servicePrincipals', appId: string) =>
  `/v1.0/${kind}(appId='${keySegment(appId)}')`

export async function readTenant(
  graph: GraphClient,
  want: Desired,
  options: ReadOptions = {},
): Promise<Tenant> {
  const [organization] = await graph.list<ReadOrganization>(
    '/v1.0/organization?$select=id,tenantType',
  )
  if (organization === undefined)
    throw new TenantReadError('GET /v1.0/organization: the answer names no tenant')
  const authEvents = await graph.find<ReadServicePrincipal>(
    byAppId('servicePrincipals', AUTH_EVENTS_APP_ID),
  )
  const graphSp = await graph.find<ReadServicePrincipal>(byAppId('servicePrincipals', GRAPH_APP_ID))
  const extensions = await readExtensions(graph, want)
  const listeners = await graph.list<ReadListener>(LISTENERS_READ_PATH)

  let app: ReadApplication | undefined
  if (want.extensionApp.appId !== undefined) {
    app = await graph.find<ReadApplication>(byAppId('applications', want.extensionApp.appId))
    if (app === undefined)
      throw new TenantReadError(
        `--extension-app ${want.extensionApp.appId}: no app registration with this application (client) ID in tenant ${organization.id}`,
      )
  } else {
    app = await graph.find<ReadApplication>(
      `/v1.0/applications(uniqueName='${keySegment(want.extensionApp.uniqueName)}')`,
    )
    if (app === undefined && options.appFromExtensions === true) {
      const appId = extensions
        .filter(
          (e) => routeOfTargetUrl(e.endpointConfiguration?.targetUrl, want.base) !== undefined,
        )
        .map((e) => RESOURCE_ID.exec(e.authenticationConfiguration?.resourceId ?? '')?.[2])
        .find((id) => id !== undefined)
      if (appId !== undefined)
        app = await graph.find<ReadApplication>(byAppId('applications', appId))
    }
  }
  // The key of an encryption certificate is answered only on a $select of one app.
  if (app !== undefined && want.encryption !== undefined)
    app = {
      ...app,
      ...(await graph.get<Pick<ReadApplication, 'keyCredentials' | 'tokenEncryptionKeyId'>>(
        `/v1.0/applications/${encodeURIComponent(app.id)}?$select=keyCredentials,tokenEncryptionKeyId`,
      )),
    }
  const sp =
    app === undefined
      ? undefined
      : await graph.find<ReadServicePrincipal>(byAppId('servicePrincipals', app.appId))
  const grants =
    sp === undefined
      ? []
      : await graph.list<ReadAppRoleAssignment>(
          `/v1.0/servicePrincipals/${encodeURIComponent(sp.id)}/appRoleAssignments`,
        )

  const targetApps: Record<string, TargetApp> = {}
  const claims = want.claimsMapping !== undefined
  for (const appId of want.targetAppIds)
    targetApps[appId] = await readTargetApp(graph, appId, claims)
  const claimsMappingPolicies = claims
    ? await graph.list<ReadClaimsMappingPolicy>('/v1.0/policies/claimsMappingPolicies')
    : []

  let b2c: Tenant['b2cExtensionsApp']
  if (want.migrationProperty !== undefined) {
    const found = await findB2cExtensionsApp(graph)
    b2c =
      found === undefined
        ? null
        : {
            app: found,
            properties: await graph.list<ReadExtensionProperty>(
              `/v1.0/applications/${encodeURIComponent(found.id)}/extensionProperties`,
            ),
          }
  }

  return {
    readAt: new Date(),
    graphOrigin: graph.origin,
    organization,
    authEventsServicePrincipal: authEvents,
    graphServicePrincipal: graphSp,
    extensionApp: app,
    extensionServicePrincipal: sp,
    extensionGrants: grants,
    extensions,
    listeners,
    claimsMappingPolicies,
    targetApps,
    b2cExtensionsApp: b2c,
  }
}

/**
 * The tenant's b2c-extensions-app (which holds its directory extension properties), found by its
 * exact display name; undefined when the tenant has none.
 */
export async function findB2cExtensionsApp(
  graph: GraphClient,
): Promise<ReadApplication | undefined> {
  const filter = encodeURIComponent(
    `displayName eq '${B2C_EXTENSIONS_APP_NAME.replace(/'/g, "''")}'`,
  )
  const [found] = await graph.list<ReadApplication>(`/v1.0/applications?$filter=${filter}`)
  return found
}

/** v1.0's extensions, and beta's of the types that exist only there (a preview event's). */
async function readExtensions(graph: GraphClient, want: Desired): Promise<ReadExtension[]> {
  const v1 = await graph.list<ReadExtension>('/v1.0/identity/customAuthenticationExtensions')
  if (!want.events.some((e) => e.version === 'beta')) return v1
  const known = new Set(v1.map((e) => e.id))
  const beta = await graph.list<ReadExtension>('/beta/identity/customAuthenticationExtensions')
  return [...v1, ...beta.filter((e) => !known.has(e.id))]
}

async function readTargetApp(
  graph: GraphClient,
  appId: string,
  claims: boolean,
): Promise<TargetApp> {
  const sp = await graph.find<ReadServicePrincipal>(byAppId('servicePrincipals', appId))
  const policies =
    sp === undefined || !claims
      ? []
      : await graph.list<ReadClaimsMappingPolicy>(
          `/v1.0/servicePrincipals/${encodeURIComponent(sp.id)}/claimsMappingPolicies`,
        )
  // A multi-tenant app's registration lives in its home tenant: then it is not found here.
  const application =
    sp === undefined || !claims
      ? undefined
      : await graph.find<ReadApplication>(byAppId('applications', appId))
  return { appId, servicePrincipal: sp, claimsMappingPolicies: policies, application }
}
