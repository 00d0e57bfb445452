// `npm run doctor`: what is wrong with a registration, from what Microsoft Graph says about the
// tenant and what the endpoint itself is configured with (contract §2, §7, §8). Pure: no I/O.
import type { EventRoute } from '../../src/events/routes.js'
import {
  AUTH_EVENTS_APP_ID,
  customClaimIds,
  DEFAULT_TIMEOUT_MS,
  isRegisterMadeApp,
  isSingleTenant,
  MAX_TIMEOUT_MS,
  RECEIVE_PAYLOAD_ROLE_ID,
  listenerAppIds,
  listenersOf,
  lower,
  printable,
  recommendedIssuers,
  RESOURCE_ID,
  ROUTE_TYPES,
  ROUTES,
  TIMEOUT_HEADROOM_MS,
  v1Issuer,
  type GraphExtension,
  type GraphClaimsMappingPolicy,
  type GraphListener,
  type GraphOrganization,
} from './entra-objects.js'

export type Severity = 'error' | 'warning' | 'ok'

export interface Finding {
  readonly severity: Severity
  readonly code: string
  readonly message: string
  readonly fix: string
}

export interface ResourceApp {
  readonly appId: string
  readonly application?:
    | {
        readonly identifierUris?: readonly string[] | undefined
        /** register's own app has a uniqueName with REGISTER_UNIQUE_NAME_PREFIX. */
        readonly uniqueName?: string | null | undefined
        readonly api?: { readonly requestedAccessTokenVersion?: number | null } | null
      }
    | undefined
  readonly servicePrincipal?: { readonly id: string; readonly accountEnabled?: boolean } | undefined
  /** The service principal's app role assignments (application permissions consented). */
  readonly appRoleAssignments?: readonly { readonly appRoleId?: string }[] | undefined
}

export interface TargetApp {
  readonly appId: string
  readonly servicePrincipalFound: boolean
  /** Claims mapping policies assigned to the target app's service principal. */
  readonly claimsMappingPolicies: readonly GraphClaimsMappingPolicy[]
  /** Whether the target app's registration has api.acceptMappedClaims (undefined: not in tenant). */
  readonly acceptMappedClaims?: boolean | undefined
  /** The target app registration's signInAudience (undefined: not in tenant, or not read). */
  readonly signInAudience?: string | undefined
}

export interface TenantView {
  /** GET /organization: the tenant's ID and type (AAD, CIAM). */
  readonly organization: GraphOrganization
  /** Whether the "Azure AD authentication events" service principal exists (contract trap 12). */
  readonly authEventsServicePrincipal: boolean
  readonly extensions: readonly GraphExtension[]
  readonly listeners: readonly GraphListener[]
  /** By appId (lower case). */
  readonly resourceApps: Readonly<Record<string, ResourceApp>>
  readonly targetApp?: TargetApp | undefined
}

export interface EndpointView {
  /** The deployed base URL (--url), e.g. https://contoso-ext.azurewebsites.net */
  readonly baseUrl: string
  /** --app: the client application whose sign-ins should call the endpoint. */
  readonly appId?: string | undefined
  readonly tenantId: string
  readonly audiences: readonly string[]
  readonly issuers: readonly string[]
  readonly requestBudgetMs: number
  /** EXTENSION_CONFIG tokenIssuanceStart.claims names. */
  readonly claimNames: readonly string[]
}

const err = (code: string, message: string, fix: string): Finding => ({
  severity: 'error',
  code,
  message,
  fix,
})
const warn = (code: string, message: string, fix: string): Finding => ({
  severity: 'warning',
  code,
  message,
  fix,
})

function hostOf(url: string | null | undefined): string | undefined {
  try {
    return url ? new URL(url).host.toLowerCase() : undefined
  } catch {
    return undefined
  }
}

const trimSlash = (path: string) => path.replace(/\/+$/, '')

/** The route a targetUrl names on this endpoint: /{base path}/api/<route>. */
function routeOf(targetUrl: URL, base: URL): EventRoute | undefined {
  const prefix = `${trimSlash(base.pathname)}/api/`
  const path = trimSlash(targetUrl.pathname)
  if (!path.toLowerCase().startsWith(prefix.toLowerCase())) return undefined
  const name = path.slice(prefix.length)
  return ROUTES.find((route) => route.toLowerCase() === name.toLowerCase())
}

const label = (e: GraphExtension) =>
  `extension ${printable(e.id, 100)}${e.displayName ? ` "${printable(e.displayName, 100)}"` : ''}`

// ---- the checks, each small and named ----

function checkTargetUrl(e: GraphExtension, base: URL): { route?: EventRoute; findings: Finding[] } {
  const raw = e.endpointConfiguration?.targetUrl ?? ''
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return {
      findings: [
        err(
          'target-url-invalid',
          `${label(e)}: targetUrl is not a URL (Entra 1003020)`,
          `Set endpointConfiguration.targetUrl to ${base.origin}/api/<route>.`,
        ),
      ],
    }
  }
  const findings: Finding[] = []
  if (url.host.toLowerCase() !== base.host.toLowerCase() || url.protocol !== 'https:') {
    findings.push(
      err(
        'target-url-host',
        `${label(e)}: targetUrl ${url.origin} is not the deployed endpoint ${base.origin}`,
        `Set endpointConfiguration.targetUrl to ${base.origin}/api/<route>, or pass the right --url.`,
      ),
    )
  }
  const route = routeOf(url, base)
  if (route === undefined) {
    findings.push(
      err(
        'target-url-path',
        `${label(e)}: targetUrl path ${url.pathname} is none of ${base.origin}${trimSlash(base.pathname)}/api/{${ROUTES.join(',')}}`,
        "Point targetUrl at the route of the extension's event, e.g. /api/onTokenIssuanceStart.",
      ),
    )
  }
  if (url.search !== '') {
    findings.push(
      warn(
        'target-url-query',
        `${label(e)}: targetUrl carries a query string (a function key?)`,
        'Remove the query: this endpoint authenticates Entra by the bearer token, not a function key.',
      ),
    )
  }
  return route === undefined ? { findings } : { route, findings }
}

function checkExtensionType(e: GraphExtension, route: EventRoute): Finding[] {
  const expected = ROUTE_TYPES[route].extension
  if (e['@odata.type'] === expected) return []
  return [
    err(
      'extension-type-mismatch',
      `${label(e)}: type ${e['@odata.type'] ?? '(none)'} but its targetUrl is the ${route} route`,
      `Point it at the route for its event, or create a ${expected} for /api/${route}.`,
    ),
  ]
}

function checkResourceId(e: GraphExtension, targetHost: string | undefined): Finding[] {
  const resourceId = e.authenticationConfiguration?.resourceId ?? ''
  const match = RESOURCE_ID.exec(resourceId)
  if (match === null) {
    return [
      err(
        'resource-id-format',
        `${label(e)}: resourceId "${resourceId}" is not api://{fqdn}/{appId} (Entra 1003014)`,
        "Set authenticationConfiguration.resourceId to the extension app's identifier URI api://{targetUrl host}/{appId}.",
      ),
    ]
  }
  if (targetHost !== undefined && (match[1] ?? '').toLowerCase() !== targetHost) {
    return [
      err(
        'resource-id-host',
        `${label(e)}: resourceId host ${match[1]} is not the targetUrl host ${targetHost} (Entra 1003015)`,
        `Give the app the identifier URI api://${targetHost}/${match[2]} and use it as resourceId.`,
      ),
    ]
  }
  return []
}

function checkAudience(e: GraphExtension, app: ResourceApp | undefined, endpoint: EndpointView) {
  const resourceId = e.authenticationConfiguration?.resourceId ?? ''
  const appId = RESOURCE_ID.exec(resourceId)?.[2]?.toLowerCase()
  if (appId === undefined) return [] // resource-id-format says it
  const audiences = endpoint.audiences.map((a) => a.toLowerCase())
  const version = app?.application?.api?.requestedAccessTokenVersion
  // v2 tokens carry the client id, v1 (null) tokens the identifier URI (contract §2).
  const expected =
    app?.application === undefined
      ? [resourceId, appId ?? '']
      : version === 2
        ? [appId ?? '']
        : [resourceId]
  if (expected.some((aud) => aud !== '' && audiences.includes(aud.toLowerCase()))) return []
  const aud = version === 2 ? appId : resourceId
  return [
    err(
      'audience-mismatch',
      `${label(e)}: Entra's tokens will carry aud ${aud ?? resourceId}, which ENTRA_AUDIENCE does not list`,
      `Add ${aud ?? resourceId} to ENTRA_AUDIENCE (comma-separated) in the endpoint's app settings.`,
    ),
  ]
}

function checkIssuer(e: GraphExtension, app: ResourceApp | undefined, endpoint: EndpointView) {
  if (app?.application === undefined) return []
  const v2 = app.application.api?.requestedAccessTokenVersion === 2
  if (v2 || endpoint.issuers.some((iss) => iss.startsWith('https://sts.windows.net/'))) return []
  const v1 = v1Issuer(endpoint.tenantId)
  const resourceId = e.authenticationConfiguration?.resourceId ?? ''
  return [
    err(
      'token-version-v1',
      `${label(e)}: app ${app.appId} gets v1 tokens (requestedAccessTokenVersion is not 2), whose issuer ENTRA_ISSUER does not list`,
      isRegisterMadeApp(app.application)
        ? `Set api.requestedAccessTokenVersion to 2 on app ${app.appId} (npm run register does), or add ${v1} to ENTRA_ISSUER.`
        : // Switching someone else's app to v2 would break whatever validates its v1 tokens.
          `Add ${v1} to ENTRA_ISSUER (after the default issuers) and keep ${resourceId} in ENTRA_AUDIENCE: app ${app.appId} is not one npm run register created, and other software may validate its v1 tokens, so it stays on v1. Set its api.requestedAccessTokenVersion to 2 only once nothing else relies on those.`,
    ),
  ]
}

function checkResourceApp(e: GraphExtension, app: ResourceApp | undefined): Finding[] {
  const resourceId = e.authenticationConfiguration?.resourceId ?? ''
  const appId = RESOURCE_ID.exec(resourceId)?.[2]
  if (appId === undefined) return [] // resource-id-format says it
  if (app?.application === undefined) {
    return [
      err(
        'app-not-found',
        `${label(e)}: no app registration with appId ${appId}`,
        'Register the extension app (or fix the appId in resourceId).',
      ),
    ]
  }
  const findings: Finding[] = []
  const uris = (app.application.identifierUris ?? []).map((u) => u.toLowerCase())
  if (!uris.includes(resourceId.toLowerCase())) {
    findings.push(
      err(
        'identifier-uri-missing',
        `${label(e)}: app ${appId} does not have the identifier URI ${resourceId} (Entra 1003014)`,
        `Add ${resourceId} to the app's identifierUris ("Expose an API" in the portal).`,
      ),
    )
  }
  if (app.servicePrincipal === undefined) {
    findings.push(
      err(
        'service-principal-missing',
        `${label(e)}: app ${appId} has no service principal (Entra 1003016)`,
        `Create it: POST /servicePrincipals { "appId": "${appId}" } (or az ad sp create --id ${appId}).`,
      ),
    )
    return findings
  }
  if (app.servicePrincipal.accountEnabled === false) {
    findings.push(
      err(
        'service-principal-disabled',
        `${label(e)}: app ${appId}'s service principal is disabled (Entra 1003019)`,
        'Enable the enterprise application (accountEnabled: true).',
      ),
    )
  }
  const consented = (app.appRoleAssignments ?? []).some(
    (a) => a.appRoleId?.toLowerCase() === RECEIVE_PAYLOAD_ROLE_ID,
  )
  if (!consented) {
    findings.push(
      err(
        'permission-not-consented',
        `${label(e)}: app ${appId} lacks admin consent for CustomAuthenticationExtension.Receive.Payload (Entra 1003021)`,
        `Grant admin consent for the Microsoft Graph application permission CustomAuthenticationExtension.Receive.Payload to app ${appId}.`,
      ),
    )
  }
  return findings
}

/** How far above the needed timeout a registered one may be before doctor mentions it. */
const SLACK_MS = 500

function checkClientConfiguration(e: GraphExtension, endpoint: EndpointView): Finding[] {
  const findings: Finding[] = []
  const timeout = e.clientConfiguration?.timeoutInMilliseconds ?? DEFAULT_TIMEOUT_MS
  const needed = endpoint.requestBudgetMs + TIMEOUT_HEADROOM_MS
  if (timeout > MAX_TIMEOUT_MS) {
    findings.push(
      err(
        'timeout-too-high',
        `${label(e)}: timeoutInMilliseconds ${timeout} is over Entra's maximum of ${MAX_TIMEOUT_MS}`,
        `Set clientConfiguration.timeoutInMilliseconds to at most ${MAX_TIMEOUT_MS}.`,
      ),
    )
  } else if (timeout < needed) {
    findings.push(
      warn(
        'timeout-below-budget',
        `${label(e)}: timeoutInMilliseconds ${timeout} is below REQUEST_BUDGET_MS ${endpoint.requestBudgetMs} + ${TIMEOUT_HEADROOM_MS} ms headroom; Entra may give up (1003005) before the endpoint answers`,
        `Raise timeoutInMilliseconds to at least ${Math.min(needed, MAX_TIMEOUT_MS)}, or lower REQUEST_BUDGET_MS to ${Math.max(100, timeout - TIMEOUT_HEADROOM_MS)}.`,
      ),
    )
  } else if (timeout > needed + SLACK_MS) {
    // Not a failure: Entra just waits longer than the endpoint ever takes before it retries or
    // shows the user an error, so a hung connection holds a sign-in for up to 2 × timeout.
    findings.push(
      warn(
        'timeout-above-budget',
        `${label(e)}: timeoutInMilliseconds ${timeout} is well above what the endpoint needs (REQUEST_BUDGET_MS ${endpoint.requestBudgetMs} + ${TIMEOUT_HEADROOM_MS} ms); when a call hangs, the user waits up to ${timeout * (1 + (e.clientConfiguration?.maximumRetries ?? 1))} ms`,
        `Lower timeoutInMilliseconds to ${needed} (npm run register --timeout ${needed}), or raise REQUEST_BUDGET_MS if the sources need the time.`,
      ),
    )
  }
  const retries = e.clientConfiguration?.maximumRetries
  if (retries !== undefined && retries !== null && retries !== 0 && retries !== 1) {
    findings.push(
      err(
        'retries-invalid',
        `${label(e)}: maximumRetries ${retries} is neither 0 nor 1`,
        'Set clientConfiguration.maximumRetries to 0 or 1.',
      ),
    )
  }
  return findings
}

function checkClaims(e: GraphExtension, endpoint: EndpointView): Finding[] {
  const registered = (e.claimsForTokenConfiguration ?? [])
    .map((c) => c.claimIdInApiResponse ?? '')
    .filter((name) => name !== '')
  const findings: Finding[] = []
  const missing = endpoint.claimNames.filter((name) => !registered.includes(name))
  if (missing.length > 0) {
    findings.push(
      err(
        'claim-not-registered',
        `${label(e)}: claims ${missing.join(', ')} are configured in EXTENSION_CONFIG but not in claimsForTokenConfiguration, so Entra drops them`,
        `Add { "claimIdInApiResponse": "<name>" } for ${missing.join(', ')} to the extension's claimsForTokenConfiguration.`,
      ),
    )
  }
  const extra = registered.filter((name) => !endpoint.claimNames.includes(name))
  if (extra.length > 0) {
    findings.push(
      warn(
        'claim-not-served',
        `${label(e)}: claimsForTokenConfiguration lists ${extra.join(', ')}, which EXTENSION_CONFIG does not configure`,
        `Configure ${extra.join(', ')} under tokenIssuanceStart.claims, or remove them from claimsForTokenConfiguration.`,
      ),
    )
  }
  return findings
}

function checkListeners(
  e: GraphExtension,
  route: EventRoute | undefined,
  listeners: readonly GraphListener[],
  appId: string | undefined,
): Finding[] {
  const using = listenersOf(listeners, e.id)
  if (using.length === 0) {
    if (route !== undefined && route !== 'onTokenIssuanceStart')
      // A sign-up or OTP extension may be attached through a user flow, which this check does
      // not read (UNCONFIRMED that the admin center always makes a listener for it).
      return [
        warn(
          'listener-missing',
          `${label(e)}: no authentication event listener uses it; unless a user flow does, Entra never calls it`,
          'Attach the extension to a user flow in the Entra admin center, or create its listener (npm run register --events <event> --app <appId>).',
        ),
      ]
    return [
      err(
        'listener-missing',
        `${label(e)}: no authentication event listener uses it, so Entra never calls it`,
        'Create an onTokenIssuanceStartListener whose handler.customExtension.id is this extension, for your app (npm run register does).',
      ),
    ]
  }
  if (appId === undefined) return []
  const forApp = using.some(
    (l) =>
      l.conditions?.applications?.includeAllApplications === true ||
      listenerAppIds(l).includes(appId.toLowerCase()),
  )
  if (forApp) return []
  return [
    err(
      'listener-app-missing',
      `${label(e)}: no listener using it includes app ${appId}`,
      `Add { "appId": "${appId}" } to conditions.applications.includeApplications of listener ${using[0]?.id ?? ''} (npm run register --app ${appId} does).`,
    ),
  ]
}

/** --app bound to one event by more than one listener: two extensions compete for its sign-ins. */
function checkDuplicateListeners(
  listeners: readonly GraphListener[],
  appId: string | undefined,
): Finding[] {
  if (appId === undefined) return []
  const findings: Finding[] = []
  for (const route of ROUTES) {
    const binding = listeners.filter(
      (l) =>
        l['@odata.type'] === ROUTE_TYPES[route].listener &&
        (l.conditions?.applications?.includeAllApplications === true ||
          listenerAppIds(l).includes(appId.toLowerCase())),
    )
    if (binding.length > 1)
      findings.push(
        warn(
          'listener-duplicate',
          `--app ${appId}: ${binding.length} ${route} listeners apply to it (${binding.map((l) => printable(l.id, 100)).join(', ')}); Entra runs one of them by priority, and which one is easy to get wrong`,
          'Keep one listener per event and app: remove the app from the others (or delete them).',
        ),
      )
  }
  return findings
}

function checkClaimsMapping(target: TargetApp | undefined, endpoint: EndpointView): Finding[] {
  if (target === undefined) return []
  if (!target.servicePrincipalFound) {
    return [
      err(
        'target-app-not-found',
        `--app ${target.appId}: no service principal for this app in the tenant`,
        'Check the --app value: it is the application (client) ID of the app users sign in to.',
      ),
    ]
  }
  if (endpoint.claimNames.length === 0) return []
  const ids = new Set<string>()
  for (const policy of target.claimsMappingPolicies)
    for (const id of customClaimIds(policy)) ids.add(id)
  const findings: Finding[] = []
  const unmapped = endpoint.claimNames.filter((name) => !ids.has(name))
  if (unmapped.length > 0)
    findings.push(
      warn(
        'claim-not-mapped',
        `--app ${target.appId}: claims ${unmapped.join(', ')} have no claims mapping policy entry (Source CustomClaimsProvider), so they do not reach its tokens`,
        `Assign a claims mapping policy with { "Source": "CustomClaimsProvider", "ID": "<name>", "JwtClaimType": "<name>" } for ${unmapped.join(', ')} to the app's service principal (npm run register does).`,
      ),
    )
  // Contract §4: mapped claims need acceptMappedClaims or a custom signing key (else AADSTS50146);
  // on a multi-tenant app only the key (trap 16).
  if (target.claimsMappingPolicies.length > 0 && target.acceptMappedClaims === false)
    findings.push(
      warn(
        'accept-mapped-claims-off',
        `--app ${target.appId}: api.acceptMappedClaims is not true, so sign-ins fail with AADSTS50146 unless the app has a custom signing key`,
        !knownMultiTenant(target)
          ? `Set api.acceptMappedClaims to true on app ${target.appId} (manifest), or give it a custom signing key.`
          : `Give app ${target.appId} a custom signing key (Entra docs, claims customization). Do not set api.acceptMappedClaims: it is a multi-tenant app (signInAudience ${printable(target.signInAudience ?? '(none)', 60)}).`,
      ),
    )
  return findings
}

/** Graph named an audience other than AzureADMyOrg (not read: no evidence either way). */
const knownMultiTenant = (target: TargetApp) =>
  target.signInAudience !== undefined && !isSingleTenant(target)

/**
 * Contract trap 16: acceptMappedClaims on a multi-tenant app lets the admin of any tenant it is
 * used in attach their own claims mapping policy, and so put claims of their choice in its tokens.
 */
function checkMappedClaimsAudience(target: TargetApp | undefined): Finding[] {
  if (target?.acceptMappedClaims !== true || !knownMultiTenant(target)) return []
  return [
    err(
      'accept-mapped-claims-multi-tenant',
      `--app ${target.appId}: api.acceptMappedClaims is true on a multi-tenant app (signInAudience ${printable(target.signInAudience ?? '(none)', 60)}), so the admin of any tenant it is used in can attach their own claims mapping policy and put claims of their choice in its tokens`,
      `Set api.acceptMappedClaims to false (or null) on app ${target.appId}, and give it a custom signing key instead (Entra docs, claims customization) if its tokens need mapped claims.`,
    ),
  ]
}

/** The tenant Graph answered for, against ENTRA_TENANT_ID and ENTRA_ISSUER (contract §2). */
function checkTenant(tenant: TenantView, endpoint: EndpointView): Finding[] {
  const findings: Finding[] = []
  const tenantId = tenant.organization.id.toLowerCase()
  if (tenantId !== endpoint.tenantId.toLowerCase()) {
    findings.push(
      err(
        'tenant-mismatch',
        `Graph answered for tenant ${tenantId}, but ENTRA_TENANT_ID is ${endpoint.tenantId}: the endpoint rejects this tenant's tokens`,
        `Set ENTRA_TENANT_ID=${tenantId} (and ENTRA_ISSUER to match), or sign in to the tenant the endpoint serves (AZURE_TENANT_ID).`,
      ),
    )
    return findings
  }
  const ciam = tenant.organization.tenantType?.toUpperCase() === 'CIAM'
  const accepted = endpoint.issuers.map((i) => i.toLowerCase())
  const kindAccepted = ciam
    ? accepted.some((i) => i.includes('.ciamlogin.com/'))
    : accepted.some(
        (i) =>
          i.startsWith('https://login.microsoftonline.com/') ||
          i.startsWith('https://sts.windows.net/'),
      )
  if (!kindAccepted) {
    findings.push(
      err(
        'issuer-mismatch',
        `tenant ${tenantId} is ${ciam ? 'an External ID (CIAM) tenant, whose tokens come from ciamlogin.com' : 'a workforce tenant, whose tokens come from login.microsoftonline.com'}, but ENTRA_ISSUER accepts only ${endpoint.issuers.join(', ')}`,
        `Set ENTRA_ISSUER=${recommendedIssuers(tenantId).join(',')} (or leave it unset: that is the default, and what npm run register prints).`,
      ),
    )
  }
  if (!tenant.authEventsServicePrincipal) {
    findings.push(
      err(
        'auth-events-sp-missing',
        `the tenant has no service principal for "Azure AD authentication events" (${AUTH_EVENTS_APP_ID}), the caller of every extension`,
        `Create it: POST /servicePrincipals { "appId": "${AUTH_EVENTS_APP_ID}" } (npm run register does).`,
      ),
    )
  }
  return findings
}

/** Every finding about the registration of the endpoint at `endpoint.baseUrl`. */
export function diagnose(tenant: TenantView, endpoint: EndpointView): Finding[] {
  const base = new URL(endpoint.baseUrl)
  const baseHost = base.host.toLowerCase()
  const appId = endpoint.appId?.toLowerCase()
  const listenedByApp = new Set(
    appId === undefined
      ? []
      : tenant.listeners
          .filter((l) => listenerAppIds(l).includes(appId))
          .map((l) => lower(l.handler?.customExtension?.id)),
  )
  // Ours: pointing at this host, or called for --app's sign-ins.
  const ours = tenant.extensions.filter(
    (e) =>
      hostOf(e.endpointConfiguration?.targetUrl) === baseHost || listenedByApp.has(lower(e.id)),
  )
  const findings: Finding[] = checkTenant(tenant, endpoint)
  const served = new Set<EventRoute>()
  for (const e of ours) {
    const before = findings.length
    const target = checkTargetUrl(e, base)
    findings.push(...target.findings)
    if (target.route !== undefined) {
      findings.push(...checkExtensionType(e, target.route))
      served.add(target.route)
    }
    const appId = RESOURCE_ID.exec(e.authenticationConfiguration?.resourceId ?? '')?.[2]
    const app = appId === undefined ? undefined : tenant.resourceApps[appId.toLowerCase()]
    findings.push(...checkResourceId(e, hostOf(e.endpointConfiguration?.targetUrl)))
    findings.push(...checkResourceApp(e, app))
    findings.push(...checkAudience(e, app, endpoint))
    findings.push(...checkIssuer(e, app, endpoint))
    findings.push(...checkClientConfiguration(e, endpoint))
    if (e['@odata.type'] === ROUTE_TYPES.onTokenIssuanceStart.extension)
      findings.push(...checkClaims(e, endpoint))
    findings.push(...checkListeners(e, target.route, tenant.listeners, endpoint.appId))
    if (findings.length === before)
      findings.push({
        severity: 'ok',
        code: 'extension-ok',
        message: `${label(e)} (${target.route ?? '?'}) is registered correctly`,
        fix: '',
      })
  }
  findings.push(...checkMissingExtensions(served, ours.length, base))
  findings.push(...checkDuplicateListeners(tenant.listeners, endpoint.appId))
  if (served.has('onTokenIssuanceStart'))
    findings.push(...checkClaimsMapping(tenant.targetApp, endpoint))
  else if (tenant.targetApp?.servicePrincipalFound === false)
    findings.push(...checkClaimsMapping(tenant.targetApp, { ...endpoint, claimNames: [] }))
  findings.push(...checkMappedClaimsAudience(tenant.targetApp))
  return findings
}

function checkMissingExtensions(served: Set<EventRoute>, ours: number, base: URL): Finding[] {
  if (ours === 0) {
    return [
      err(
        'extension-missing',
        `no custom authentication extension points at ${base.origin}`,
        `Create one (POST /identity/customAuthenticationExtensions) with targetUrl ${base.origin}/api/<route> for each event you use.`,
      ),
    ]
  }
  return ROUTES.filter((route) => !served.has(route)).map((route) =>
    warn(
      'extension-missing',
      `the endpoint serves ${route}, but no extension of type ${ROUTE_TYPES[route].extension} points at ${base.origin}/api/${route}`,
      `If you use this event, create a ${ROUTE_TYPES[route].extension} with targetUrl ${base.origin}/api/${route}; otherwise ignore this.`,
    ),
  )
}
