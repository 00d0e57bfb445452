// `npm run register`: makes the tenant's registration of a deployed endpoint what contract §7
// says it must be, through Microsoft Graph, idempotently: every step reads first and writes only
// what differs, so a second run changes nothing. With dryRun no write is sent: each is recorded
// with its method, path and body instead (reads still happen, to plan against the real tenant).
//
// The steps, in order:
//   1. the tenant (GET /organization: its ID and whether it is an External ID tenant);
//   2. the service principal of "Azure AD authentication events" (99045fe1-…), created when a new
//      tenant lacks it (contract trap 12);
//   3. the extension's app registration: found by --extension-app, or by the uniqueName this tool
//      gives it, else created by Graph's upsert on that key; identifier URI api://{host}/{appId}, v2 tokens (only on an app
//      this tool created, known by that uniqueName: another keeps its token version, and the
//      settings printed accept v1 tokens), and the Graph permission
//      CustomAuthenticationExtension.Receive.Payload in requiredResourceAccess;
//   4. its service principal (enabled), and admin consent for that permission (an app role
//      assignment to Microsoft Graph's service principal);
//   5. one custom authentication extension per event, matched by type and target URL;
//   6. one listener per extension, for the target apps (added to, never removed from);
//   7. for token issuance: a claims mapping policy for the configured claims, assigned to each
//      target app's service principal, and acceptMappedClaims on the target app (contract §4),
//      only when that app is single-tenant (signInAudience AzureADMyOrg, contract trap 16): on a
//      multi-tenant one it is a listed problem, with the alternative (a custom signing key).
import type { EventRoute } from '../../src/events/routes.js'
import {
  AUTH_EVENTS_APP_ID,
  customClaimIds,
  FALLBACK_TO_MICROSOFT,
  GRAPH_APP_ID,
  LISTENERS_READ_PATH,
  RECEIVE_PAYLOAD_ROLE_ID,
  ROUTE_TYPES,
  isRegisterMadeApp,
  isSingleTenant,
  listenerAppIds,
  lower,
  printable,
  recommendedIssuers,
  REGISTER_UNIQUE_NAME_PREFIX,
  routeOfTargetUrl,
  v1Issuer,
  type GraphAppRoleAssignment,
  type GraphApplication,
  type GraphClaimsMappingPolicy,
  type GraphExtension,
  type GraphListener,
  type GraphOrganization,
  type GraphServicePrincipal,
} from './entra-objects.js'
import { GraphApiError, keySegment, type GraphApi } from './graph-api.js'

export interface RegisterInput {
  /** The deployed base URL, e.g. https://contoso-ext.azurewebsites.net (no trailing slash). */
  readonly baseUrl: string
  readonly events: readonly EventRoute[]
  /** The client apps whose sign-ins call the endpoint (listener conditions, claims mapping). */
  readonly targetAppIds: readonly string[]
  /** Prefix of the display names of what is created. */
  readonly displayName: string
  readonly timeoutMs: number
  readonly maximumRetries: 0 | 1
  /** EXTENSION_CONFIG tokenIssuanceStart.claims names. */
  readonly claimNames: readonly string[]
  /** Use this existing app registration for the extension instead of finding or creating one. */
  readonly extensionAppId?: string | undefined
  /** Create and assign the claims mapping policy, and set acceptMappedClaims (token issuance). */
  readonly claimsMapping: boolean
  /** OnOtpSend: let Entra send its own e-mail when the endpoint fails (contract §7.3). */
  readonly otpFallback: boolean
  readonly dryRun: boolean
}

export type ChangeAction = 'created' | 'updated' | 'unchanged' | 'planned' | 'skipped'

export interface Change {
  readonly step: string
  readonly action: ChangeAction
  readonly detail: string
  /** The write made (or, in a dry run, planned). */
  readonly request?: {
    readonly method: string
    readonly path: string
    readonly body?: unknown
    /** Request headers that change what the call does (the upsert's Prefer: create-if-missing). */
    readonly headers?: Readonly<Record<string, string>>
  }
}

export interface RegisterResult {
  readonly tenantId: string
  readonly tenantType: string | undefined
  readonly extensionAppId: string
  readonly resourceId: string
  /** Extension IDs by event (a placeholder in a dry run when it would be created). */
  readonly extensionIds: Readonly<Partial<Record<EventRoute, string>>>
  readonly changes: readonly Change[]
  /** Things register could not do, each with what to do instead. Non-empty means exit 1. */
  readonly problems: readonly string[]
  /** What the operator should know that is not a problem (e.g. an app left on v1 tokens). */
  readonly notes: readonly string[]
  /** What Graph's validateAuthenticationConfiguration reported (after a real run). */
  readonly validation: readonly ValidationNote[]
  /** The endpoint's app settings that match this registration. */
  readonly settings: {
    readonly ENTRA_TENANT_ID: string
    readonly ENTRA_AUDIENCE: string
    readonly ENTRA_ISSUER: string
  }
}

export interface ValidationNote {
  readonly route: string
  /** error: Entra will fail the calls (exit 1); unavailable: Graph's check could not be run. */
  readonly severity: 'error' | 'warning' | 'unavailable'
  readonly code: string
  readonly message: string
}

export class RegisterError extends Error {
  override readonly name = 'RegisterError'
}

/** What a dry run calls an object it would create, in place of the ID Graph would give it. */
const planned = (what: string) => `<new ${what}>`
const isPlanned = (id: string) => id.startsWith('<new ')
/** How often, and after how long, a write naming an object made in this run is retried on 404. */
const REPLICATION_RETRIES_MS = [1000, 2000, 4000, 8000]

/** A uniqueName per endpoint host, so that the app is found again on the next run. */
export function extensionAppUniqueName(host: string): string {
  // Graph documents uniqueName as a client-provided alternate key; its allowed characters are not
  // spelled out (UNCONFIRMED): keep to lower-case letters, digits, dots and dashes.
  return `${REGISTER_UNIQUE_NAME_PREFIX}${host.toLowerCase().replace(/[^a-z0-9.-]/g, '-')}`
}

export function claimsMappingDefinition(claimNames: readonly string[]): string {
  return JSON.stringify({
    ClaimsMappingPolicy: {
      Version: 1,
      IncludeBasicClaimSet: 'true',
      ClaimsSchema: claimNames.map((name) => ({
        Source: 'CustomClaimsProvider',
        ID: name,
        JwtClaimType: name,
      })),
    },
  })
}

export async function register(
  graph: GraphApi,
  input: RegisterInput,
  onChange: (change: Change) => void = () => {},
): Promise<RegisterResult> {
  const base = new URL(input.baseUrl)
  const host = base.host.toLowerCase()
  const changes: Change[] = []
  const problems: string[] = []
  const notes: string[] = []
  const record = (change: Change) => {
    changes.push(change)
    onChange(change)
  }
  const same = (step: string, detail: string) => record({ step, action: 'unchanged', detail })

  /** An ID as a path segment; only a dry run's placeholder stays as it is, to be readable. */
  const seg = (id: string) => (input.dryRun && isPlanned(id) ? id : encodeURIComponent(id))
  /** IDs of what this run created: Graph may not know them everywhere yet (replication). */
  const createdIds = new Set<string>()

  /**
   * A write, or in a dry run the record of it; what Graph answered (undefined in a dry run). A
   * POST must answer the created object with its ID: every later step names it. 'UPSERT' is a
   * PATCH with Prefer: create-if-missing, which answers the object only when it created one.
   */
  async function write<T extends { id?: string }>(
    step: string,
    detail: string,
    kind: 'POST' | 'PATCH' | 'UPSERT',
    path: string,
    body: unknown,
  ): Promise<T | undefined> {
    const method = kind === 'UPSERT' ? 'PATCH' : kind
    const request = {
      method,
      path,
      body,
      ...(kind === 'UPSERT' ? { headers: { Prefer: 'create-if-missing' } } : {}),
    }
    if (input.dryRun) {
      record({ step, action: 'planned', detail, request })
      return undefined
    }
    const fresh = [...createdIds].some(
      (id) => path.includes(encodeURIComponent(id)) || JSON.stringify(body).includes(id),
    )
    let answer: T | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        answer =
          kind === 'POST'
            ? await graph.post<T>(path, body)
            : kind === 'UPSERT'
              ? await graph.upsert<T>(path, body)
              : (await graph.patch(path, body), undefined)
        break
      } catch (err) {
        // A directory object made a moment ago can be unknown to the replica that answers.
        const wait = REPLICATION_RETRIES_MS[attempt]
        if (!(fresh && err instanceof GraphApiError && err.status === 404 && wait !== undefined))
          throw err
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
    const created =
      (kind === 'POST' && !path.endsWith('/$ref') && !path.includes('/appRoleAssignments')) ||
      (kind === 'UPSERT' && answer !== undefined)
    if (created) {
      if (typeof answer?.id !== 'string' || answer.id === '')
        throw new RegisterError(`${method} ${path}: Graph answered no object ID`)
      createdIds.add(answer.id)
    }
    const made = kind === 'POST' || (kind === 'UPSERT' && answer !== undefined)
    record({ step, action: made ? 'created' : 'updated', detail, request })
    return answer
  }

  // 1. The tenant.
  const [org] = await graph.list<GraphOrganization>('/v1.0/organization?$select=id,tenantType')
  if (org === undefined) throw new RegisterError('GET /v1.0/organization answered no tenant')
  const tenantId = org.id.toLowerCase()
  const tenantType = org.tenantType ?? undefined

  // 2. The caller's service principal.
  await ensureServicePrincipal(AUTH_EVENTS_APP_ID, 'authentication events service principal')

  // 3. The extension's app registration.
  const app = await ensureExtensionApp()
  const appId = app.appId
  const resourceId = `api://${host}/${appId}`
  const tokenVersion = await updateExtensionApp(app, resourceId)

  // 4. Its service principal and the consent.
  const sp = await ensureServicePrincipal(appId, 'extension service principal')
  await ensureConsent(sp)

  // 5–6. Extensions and listeners.
  const extensionIds: Partial<Record<EventRoute, string>> = {}
  const extensions = await graph.list<GraphExtension>(
    '/v1.0/identity/customAuthenticationExtensions',
  )
  const listeners = await graph.list<GraphListener>(LISTENERS_READ_PATH)
  for (const route of input.events) {
    const id = await ensureExtension(route, resourceId, extensions)
    extensionIds[route] = id
    await ensureListener(route, id, listeners)
  }

  // 7. Claims mapping.
  if (input.events.includes('onTokenIssuanceStart') && input.claimsMapping)
    await ensureClaimsMapping()

  const validation = input.dryRun ? [] : await validate()
  return {
    tenantId,
    tenantType,
    extensionAppId: appId,
    resourceId,
    extensionIds,
    changes,
    problems,
    notes,
    validation,
    settings:
      tokenVersion === 2
        ? {
            ENTRA_TENANT_ID: tenantId,
            // v2 tokens: aud is the app's client ID (contract §2).
            ENTRA_AUDIENCE: appId,
            // The endpoint's own default, both forms, whatever the tenant type (contract §2, trap 7).
            ENTRA_ISSUER: recommendedIssuers(tenantId).join(','),
          }
        : {
            ENTRA_TENANT_ID: tenantId,
            // v1 tokens: aud is the identifier URI, iss sts.windows.net (contract §2). The client
            // ID too, so that the endpoint keeps working if the app's owner moves it to v2.
            ENTRA_AUDIENCE: `${resourceId},${appId}`,
            ENTRA_ISSUER: [...recommendedIssuers(tenantId), v1Issuer(tenantId)].join(','),
          },
  }

  async function ensureServicePrincipal(
    forAppId: string,
    step: string,
  ): Promise<GraphServicePrincipal> {
    const found = isPlanned(forAppId)
      ? undefined
      : await graph.find<GraphServicePrincipal>(
          `/v1.0/servicePrincipals(appId='${keySegment(forAppId)}')`,
        )
    if (found === undefined) {
      const created = await write<GraphServicePrincipal>(
        step,
        `service principal for app ${forAppId}`,
        'POST',
        '/v1.0/servicePrincipals',
        { appId: forAppId },
      )
      return created ?? { id: planned(step), appId: forAppId, accountEnabled: true }
    }
    if (found.accountEnabled === false) {
      await write(
        step,
        `enable service principal ${found.id}`,
        'PATCH',
        `/v1.0/servicePrincipals/${seg(found.id)}`,
        {
          accountEnabled: true,
        },
      )
    } else same(step, `service principal ${found.id} for app ${forAppId}`)
    return found
  }

  async function ensureExtensionApp(): Promise<GraphApplication> {
    const step = 'extension app registration'
    if (input.extensionAppId !== undefined) {
      const found = await graph.find<GraphApplication>(
        `/v1.0/applications(appId='${keySegment(input.extensionAppId)}')`,
      )
      if (found === undefined)
        throw new RegisterError(
          `--extension-app ${input.extensionAppId}: no app registration with this application (client) ID in tenant ${tenantId}`,
        )
      return found
    }
    const uniqueName = extensionAppUniqueName(host)
    const byName = `/v1.0/applications(uniqueName='${keySegment(uniqueName)}')`
    const found = await graph.find<GraphApplication>(byName)
    if (found !== undefined) return found
    // Graph's upsert (application-upsert.md): the app is created with this uniqueName, which is
    // how the next run finds it (201 with the new app). 204 means another run made it since the
    // read above, and updated it with this body: it is read again.
    const created = await write<GraphApplication>(
      step,
      `app registration "${input.displayName}" (uniqueName ${uniqueName})`,
      'UPSERT',
      byName,
      {
        displayName: input.displayName,
        signInAudience: 'AzureADMyOrg',
        api: { requestedAccessTokenVersion: 2 },
        requiredResourceAccess: [receivePayloadAccess()],
      },
    )
    if (input.dryRun) return { id: planned('app'), appId: planned('app appId') }
    if (created === undefined) {
      const existing = await graph.find<GraphApplication>(byName)
      if (existing === undefined)
        throw new RegisterError(`PATCH ${byName}: Graph answered 204, yet the app is not found`)
      return existing
    }
    createdIds.add(created.appId)
    return created
  }

  /** Puts right what the extension needs of its app; answers the version of its tokens. */
  async function updateExtensionApp(app: GraphApplication, uri: string): Promise<1 | 2> {
    const step = 'extension app registration'
    const patch: Record<string, unknown> = {}
    const uris = app.identifierUris ?? []
    if (!uris.some((u) => lower(u) === lower(uri))) patch.identifierUris = [...uris, uri]
    // v2 tokens are what the docs' setup asks for (contract §7.1), but switching an app someone
    // else made would break whatever validates its v1 tokens: only register's own app is switched.
    let version: 1 | 2 = 2
    if (app.api?.requestedAccessTokenVersion !== 2) {
      if (isPlanned(app.id) || isRegisterMadeApp(app))
        patch.api = { ...(app.api ?? {}), requestedAccessTokenVersion: 2 }
      else {
        version = 1
        record({
          step,
          action: 'skipped',
          detail: `app ${app.appId} gets v1 tokens (requestedAccessTokenVersion ${String(app.api?.requestedAccessTokenVersion ?? null)}); left as it is`,
        })
        notes.push(
          `app ${app.appId} (--extension-app) gets v1 tokens, and register did not create it, so it did not switch it to v2: other software may validate its v1 tokens. The settings below accept v1 tokens: ENTRA_AUDIENCE lists its identifier URI ${uri}, ENTRA_ISSUER adds ${v1Issuer(tenantId)}. To use v2 tokens instead, set api.requestedAccessTokenVersion to 2 on the app once nothing else relies on its v1 tokens, and run register again.`,
        )
      }
    }
    const access = app.requiredResourceAccess ?? []
    const graphAccess = access.find((r) => lower(r.resourceAppId) === GRAPH_APP_ID)
    const hasRole = graphAccess?.resourceAccess.some(
      (a) => lower(a.id) === RECEIVE_PAYLOAD_ROLE_ID && a.type === 'Role',
    )
    if (!hasRole && !isPlanned(app.id)) {
      patch.requiredResourceAccess = [
        ...access.filter((r) => r !== graphAccess),
        {
          resourceAppId: GRAPH_APP_ID,
          resourceAccess: [
            ...(graphAccess?.resourceAccess ?? []),
            receivePayloadAccess().resourceAccess[0],
          ],
        },
      ]
    }
    if (isPlanned(app.id)) delete patch.api // the POST asks for v2 tokens already
    const keys = Object.keys(patch)
    if (keys.length === 0) {
      same(step, `app ${app.appId}: identifier URI ${uri}, v${version} tokens, permission listed`)
      return version
    }
    await write(
      step,
      `app ${app.appId}: set ${keys.join(', ')}`,
      'PATCH',
      `/v1.0/applications/${seg(app.id)}`,
      patch,
    )
    return version
  }

  async function ensureConsent(sp: GraphServicePrincipal): Promise<void> {
    const step = 'admin consent for CustomAuthenticationExtension.Receive.Payload'
    const graphSp = await graph.find<GraphServicePrincipal>(
      `/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')`,
    )
    if (graphSp === undefined)
      throw new RegisterError(
        `the tenant has no service principal for Microsoft Graph (${GRAPH_APP_ID}); Entra reports 1003022`,
      )
    const assignments = isPlanned(sp.id)
      ? []
      : await graph.list<GraphAppRoleAssignment>(
          `/v1.0/servicePrincipals/${seg(sp.id)}/appRoleAssignments`,
        )
    const granted = assignments.some(
      (a) =>
        lower(a.appRoleId) === RECEIVE_PAYLOAD_ROLE_ID && lower(a.resourceId) === lower(graphSp.id),
    )
    if (granted) return same(step, `granted to service principal ${sp.id}`)
    await write(
      step,
      `grant the app role to service principal ${sp.id}`,
      'POST',
      `/v1.0/servicePrincipals/${seg(sp.id)}/appRoleAssignments`,
      { principalId: sp.id, resourceId: graphSp.id, appRoleId: RECEIVE_PAYLOAD_ROLE_ID },
    )
  }

  async function ensureExtension(
    route: EventRoute,
    resource: string,
    existing: readonly GraphExtension[],
  ): Promise<string> {
    const step = `extension ${route}`
    const type = ROUTE_TYPES[route].extension
    const targetUrl = `${base.origin}${base.pathname.replace(/\/+$/, '')}/api/${route}`
    // Entra's URL for this route, however it was typed (case, trailing slash, a function key).
    const atRoute = existing.filter(
      (e) => routeOfTargetUrl(e.endpointConfiguration?.targetUrl, base) === route,
    )
    for (const other of atRoute.filter((e) => e['@odata.type'] !== type))
      problems.push(
        `extension ${other.id} points at ${targetUrl} but is a ${printable(other['@odata.type'] ?? '(no type)')}; Entra sends it the wrong event. Delete it (DELETE /v1.0/identity/customAuthenticationExtensions/${other.id}).`,
      )
    const ours = atRoute.filter((e) => e['@odata.type'] === type)
    if (ours.length > 1)
      problems.push(
        `${ours.length} extensions of type ${type} point at ${targetUrl} (${ours.map((e) => e.id).join(', ')}); register keeps ${ours[0]?.id ?? ''}. Delete the others and their listeners.`,
      )
    const desired = {
      endpointConfiguration: { '@odata.type': '#microsoft.graph.httpRequestEndpoint', targetUrl },
      authenticationConfiguration: {
        '@odata.type': '#microsoft.graph.azureAdTokenAuthentication',
        resourceId: resource,
      },
      clientConfiguration: {
        timeoutInMilliseconds: input.timeoutMs,
        maximumRetries: input.maximumRetries,
      },
    }
    const found = ours[0]
    if (found === undefined) {
      const created = await write<GraphExtension>(
        step,
        `${type} → ${targetUrl}`,
        'POST',
        '/v1.0/identity/customAuthenticationExtensions',
        {
          '@odata.type': type,
          displayName: `${input.displayName} (${route})`,
          description: `Created by npm run register for ${base.origin}`,
          ...desired,
          ...(route === 'onTokenIssuanceStart'
            ? {
                claimsForTokenConfiguration: input.claimNames.map((name) => ({
                  claimIdInApiResponse: name,
                })),
              }
            : {}),
          ...(route === 'onOtpSend' && input.otpFallback
            ? { behaviorOnError: FALLBACK_TO_MICROSOFT }
            : {}),
        },
      )
      return created?.id ?? planned(`extension ${route}`)
    }
    // What differs, property by property. The display name, the description and claims someone
    // added by hand are the operator's: claims are only ever added.
    const patch: Record<string, unknown> = {}
    if (found.endpointConfiguration?.targetUrl !== targetUrl)
      patch.endpointConfiguration = desired.endpointConfiguration
    if (found.authenticationConfiguration?.resourceId !== resource)
      patch.authenticationConfiguration = desired.authenticationConfiguration
    if (
      found.clientConfiguration?.timeoutInMilliseconds !== input.timeoutMs ||
      found.clientConfiguration?.maximumRetries !== input.maximumRetries
    )
      patch.clientConfiguration = desired.clientConfiguration
    if (route === 'onTokenIssuanceStart') {
      const registered = (found.claimsForTokenConfiguration ?? []).map(
        (c) => c.claimIdInApiResponse ?? '',
      )
      const missing = input.claimNames.filter((name) => !registered.includes(name))
      if (missing.length > 0)
        patch.claimsForTokenConfiguration = [
          ...(found.claimsForTokenConfiguration ?? []),
          ...missing.map((name) => ({ claimIdInApiResponse: name })),
        ]
    }
    if (
      route === 'onOtpSend' &&
      input.otpFallback &&
      found.behaviorOnError?.['@odata.type'] !== FALLBACK_TO_MICROSOFT['@odata.type']
    )
      patch.behaviorOnError = FALLBACK_TO_MICROSOFT
    const keys = Object.keys(patch)
    if (keys.length === 0) same(step, `${found.id} → ${targetUrl}`)
    else
      await write(
        step,
        `${found.id}: set ${keys.join(', ')}`,
        'PATCH',
        `/v1.0/identity/customAuthenticationExtensions/${seg(found.id)}`,
        {
          // Graph needs the derived type to bind the PATCH body to it.
          '@odata.type': type,
          ...patch,
        },
      )
    return found.id
  }

  async function ensureListener(
    route: EventRoute,
    extensionId: string,
    existing: readonly GraphListener[],
  ): Promise<void> {
    const step = `listener ${route}`
    const types = ROUTE_TYPES[route]
    if (input.targetAppIds.length === 0) {
      record({
        step,
        action: 'skipped',
        detail: `no --app given: attach the ${route} extension to a user flow in the Entra admin center (External ID), or rerun with --app`,
      })
      return
    }
    const ofType = existing.filter((l) => l['@odata.type'] === types.listener)
    const found = ofType.find((l) => lower(l.handler?.customExtension?.id) === lower(extensionId))
    // An app already bound to this event through another extension's listener: a second
    // listener would make two extensions compete for its sign-ins. Say so, bind nothing.
    const elsewhere = (appId: string) =>
      ofType.find(
        (l) =>
          l !== found &&
          (l.conditions?.applications?.includeAllApplications === true ||
            listenerAppIds(l).includes(appId)),
      )
    const wanted = input.targetAppIds.filter((appId) => {
      const other = elsewhere(appId)
      if (other === undefined) return true
      problems.push(
        `--app ${appId}: listener ${other.id} already binds ${route} for it to extension ${other.handler?.customExtension?.id ?? '(none)'}; register did not add a second one. Remove the app from that listener (or delete it) and run register again.`,
      )
      return false
    })
    const fallback =
      route === 'onOtpSend' && input.otpFallback
        ? { behaviorOnError: FALLBACK_TO_MICROSOFT }
        : undefined
    if (found === undefined) {
      if (wanted.length === 0) return
      await write(
        step,
        `${types.listener} for app(s) ${wanted.join(', ')}`,
        'POST',
        '/v1.0/identity/authenticationEventListeners',
        {
          '@odata.type': types.listener,
          // No priority and no includeAllApplications: v1.0's authenticationEventListener and
          // authenticationConditionsApplications have neither (only beta does, where priority
          // defaults to 500 and includeAllApplications to false, what is wanted here).
          conditions: { applications: { includeApplications: wanted.map((appId) => ({ appId })) } },
          handler: {
            '@odata.type': types.handler,
            customExtension: { id: extensionId },
            ...(fallback === undefined ? {} : { configuration: fallback }),
          },
        },
      )
      return
    }
    const patch: Record<string, unknown> = {}
    // A listener for every app (a sign-up user flow's) already covers the --app apps.
    const all = found.conditions?.applications?.includeAllApplications === true
    const included = listenerAppIds(found)
    const missing = all ? [] : wanted.filter((appId) => !included.includes(appId))
    if (missing.length > 0)
      patch.conditions = {
        applications: {
          includeApplications: [
            ...(found.conditions?.applications?.includeApplications ?? []).map((a) => ({
              appId: a.appId,
            })),
            ...missing.map((appId) => ({ appId })),
          ],
        },
      }
    const configuration = found.handler?.configuration
    if (
      fallback !== undefined &&
      configuration?.behaviorOnError?.['@odata.type'] !== FALLBACK_TO_MICROSOFT['@odata.type']
    )
      patch.handler = {
        '@odata.type': types.handler,
        customExtension: { id: extensionId },
        // Other per-listener settings (a timeout override) stay as they are.
        configuration: { ...(configuration ?? {}), ...fallback },
      }
    if (Object.keys(patch).length === 0)
      return same(step, `${found.id} includes ${all ? 'all apps' : input.targetAppIds.join(', ')}`)
    await write(
      step,
      `${found.id}: ${missing.length > 0 ? `add app(s) ${missing.join(', ')}` : 'set the fallback to Microsoft'}`,
      'PATCH',
      `/v1.0/identity/authenticationEventListeners/${seg(found.id)}`,
      { '@odata.type': types.listener, ...patch },
    )
  }

  async function ensureClaimsMapping(): Promise<void> {
    const step = 'claims mapping policy'
    if (input.claimNames.length === 0) return same(step, 'EXTENSION_CONFIG configures no claims')
    if (input.targetAppIds.length === 0) return
    const displayName = `Custom claims from ${host}`
    const policies = await graph.list<GraphClaimsMappingPolicy>(
      '/v1.0/policies/claimsMappingPolicies',
    )
    const found = policies.find((p) => p.displayName === displayName)
    let policyId: string
    if (found === undefined) {
      const created = await write<GraphClaimsMappingPolicy>(
        step,
        `"${displayName}" for ${input.claimNames.join(', ')}`,
        'POST',
        '/v1.0/policies/claimsMappingPolicies',
        {
          displayName,
          definition: [claimsMappingDefinition(input.claimNames)],
          isOrganizationDefault: false,
        },
      )
      policyId = created?.id ?? planned('claims mapping policy')
    } else {
      policyId = found.id
      const mapped = customClaimIds(found)
      const missing = input.claimNames.filter((name) => !mapped.has(name))
      if (missing.length === 0) same(step, `${found.id} maps ${input.claimNames.join(', ')}`)
      else
        await write(
          step,
          `${found.id}: map ${missing.join(', ')} as well`,
          'PATCH',
          `/v1.0/policies/claimsMappingPolicies/${seg(found.id)}`,
          {
            definition: [withClaims(found, missing)],
          },
        )
    }
    for (const targetAppId of input.targetAppIds)
      await assignPolicy(targetAppId, policyId, displayName)
  }

  async function assignPolicy(targetAppId: string, policyId: string, policyName: string) {
    const step = `claims mapping for app ${targetAppId}`
    const sp = await graph.find<GraphServicePrincipal>(
      `/v1.0/servicePrincipals(appId='${keySegment(targetAppId)}')`,
    )
    if (sp === undefined) {
      problems.push(
        `--app ${targetAppId}: no service principal in tenant ${tenantId}, so no listener can match its sign-ins and no policy can be assigned. Check the ID (the application (client) ID of the app users sign in to), or create it: az ad sp create --id ${targetAppId}`,
      )
      return
    }
    const assigned = await graph.list<GraphClaimsMappingPolicy>(
      `/v1.0/servicePrincipals/${seg(sp.id)}/claimsMappingPolicies`,
    )
    if (assigned.some((p) => p.id === policyId))
      same(step, `policy "${policyName}" assigned to ${sp.id}`)
    else if (assigned.length > 0)
      problems.push(
        `--app ${targetAppId}: its service principal already has the claims mapping policy "${printable(assigned[0]?.displayName ?? '')}" (${assigned[0]?.id ?? ''}), and takes only one. Add entries { "Source": "CustomClaimsProvider", "ID": "<claim>", "JwtClaimType": "<claim>" } for ${input.claimNames.join(', ')} to that policy, or unassign it and run register again.`,
      )
    else
      await write(
        step,
        `assign policy "${policyName}" to ${sp.id}`,
        'POST',
        `/v1.0/servicePrincipals/${seg(sp.id)}/claimsMappingPolicies/$ref`,
        {
          '@odata.id': `${graph.origin}/v1.0/policies/claimsMappingPolicies/${policyId}`,
        },
      )

    const app = await graph.find<GraphApplication>(
      `/v1.0/applications(appId='${keySegment(targetAppId)}')`,
    )
    const acceptStep = `acceptMappedClaims on app ${targetAppId}`
    // A registration in another tenant makes this a multi-tenant app (contract trap 16).
    const signingKey =
      'give it a custom signing key instead (Entra docs, claims customization), with which its tokens carry the mapped claims'
    if (app === undefined) {
      problems.push(
        `--app ${targetAppId}: its app registration is not in tenant ${tenantId}, so it is a multi-tenant app: acceptMappedClaims must not be set on it (the admin of any tenant it is used in could then attach their own claims mapping policy and put claims of their choice in its tokens), and without it or a custom signing key Entra fails with AADSTS50146. In its home tenant, ${signingKey}.`,
      )
      return
    }
    const audience = app.signInAudience ?? '(none)'
    if (!isSingleTenant(app)) {
      // Never set on a multi-tenant app; one already set is reported, not unset (sign-ins may rely on it).
      if (app.api?.acceptMappedClaims === true)
        problems.push(
          `--app ${targetAppId}: api.acceptMappedClaims is true on a multi-tenant app (signInAudience ${printable(audience, 60)}): the admin of any tenant it is used in can attach their own claims mapping policy and put claims of their choice in its tokens. Set api.acceptMappedClaims to false (or null) and ${signingKey}.`,
        )
      else {
        record({
          step: acceptStep,
          action: 'skipped',
          detail: `multi-tenant app (signInAudience ${printable(audience, 60)}): acceptMappedClaims not set`,
        })
        problems.push(
          `--app ${targetAppId}: a multi-tenant app (signInAudience ${printable(audience, 60)}), so register did not set api.acceptMappedClaims: the admin of any tenant it is used in could then attach their own claims mapping policy and put claims of their choice in its tokens. Without it or a custom signing key Entra fails with AADSTS50146: ${signingKey}.`,
        )
      }
      return
    }
    if (app.api?.acceptMappedClaims === true) return same(acceptStep, 'already true')
    await write(
      acceptStep,
      'set api.acceptMappedClaims to true',
      'PATCH',
      `/v1.0/applications/${seg(app.id)}`,
      {
        // The whole api object goes back, so nothing else in it is reset.
        api: { ...(app.api ?? {}), acceptMappedClaims: true },
      },
    )
  }

  async function validate(): Promise<ValidationNote[]> {
    const found: ValidationNote[] = []
    type Item = { code?: string; message?: string }
    const note = (route: string, severity: ValidationNote['severity'], item: Item) =>
      found.push({
        route,
        severity,
        code: printable(item.code ?? '', 100),
        message: printable(item.message ?? ''),
      })
    for (const [route, id] of Object.entries(extensionIds)) {
      try {
        const answer = await graph.post<{ errors?: Item[]; warnings?: Item[] }>(
          `/v1.0/identity/customAuthenticationExtensions/${seg(id)}/validateAuthenticationConfiguration`,
        )
        for (const e of answer?.errors ?? []) note(route, 'error', e)
        for (const w of answer?.warnings ?? []) note(route, 'warning', w)
      } catch (err) {
        // A check after the fact: its failure must not fail a registration that is otherwise done.
        note(route, 'unavailable', {
          code: 'validateAuthenticationConfiguration',
          message: `could not run (${err instanceof Error ? err.message : String(err)})`,
        })
      }
    }
    return found
  }
}

function receivePayloadAccess() {
  return {
    resourceAppId: GRAPH_APP_ID,
    resourceAccess: [{ id: RECEIVE_PAYLOAD_ROLE_ID, type: 'Role' }],
  } as const
}

/** The policy's definition with CustomClaimsProvider entries for `names` appended. */
function withClaims(policy: GraphClaimsMappingPolicy, names: readonly string[]): string {
  let parsed: { ClaimsMappingPolicy?: { ClaimsSchema?: unknown[]; [key: string]: unknown } }
  try {
    parsed = JSON.parse(policy.definition?.[0] ?? '{}') as typeof parsed
  } catch {
    parsed = {}
  }
  const inner = parsed.ClaimsMappingPolicy ?? { Version: 1, IncludeBasicClaimSet: 'true' }
  return JSON.stringify({
    ...parsed,
    ClaimsMappingPolicy: {
      ...inner,
      ClaimsSchema: [
        ...(Array.isArray(inner.ClaimsSchema) ? inner.ClaimsSchema : []),
        ...names.map((name) => ({ Source: 'CustomClaimsProvider', ID: name, JwtClaimType: name })),
      ],
    },
  })
}
