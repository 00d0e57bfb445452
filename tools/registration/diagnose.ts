// `npm run doctor`: what is wrong with a registration. The same plan register would apply, read
// as findings (each step names the finding its changes mean: steps/*.ts), plus the checks that
// need the endpoint's own settings: tenant and issuer, audience and token version, Entra's timeout
// against the request budget, the target URLs as typed, and the endpoint's decryption key against
// the app's encryption certificate. Pure: the tenant was read before (read-tenant.ts).
import type { EventRoute } from '../../src/events/routes.js'
import { certificateOf } from './certificate.js'
import { CHECKED_BY_DEFAULT, desired, type Desired } from './desired.js'
import {
  DEFAULT_TIMEOUT_MS,
  isRegisterMadeApp,
  listenerAppIds,
  lower,
  MAX_TIMEOUT_MS,
  printable,
  recommendedIssuers,
  RESOURCE_ID,
  ROUTE_TYPES,
  ROUTES,
  routeOfTargetUrl,
  TIMEOUT_HEADROOM_MS,
  v1Issuer,
} from './entra-objects.js'
import { FINDINGS, finding, type Finding } from './findings.js'
import type { ReadExtension, ReadListener } from './graph-types.js'
import type { Change, Plan } from './changes.js'
import { plan } from './plan.js'
import type { Tenant } from './read-tenant.js'

export type { Finding, Severity } from './findings.js'

/** One of the endpoint's decryption keys: its public key (base64 SPKI), and where it was read. */
export interface EndpointKey {
  readonly spki: string
  readonly source: string
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
  /** The events to check (default: CHECKED_BY_DEFAULT). */
  readonly events?: readonly EventRoute[] | undefined
  /**
   * The public key of the endpoint's decryption key (base64 SPKI) and where it was read (a file, a
   * Key Vault certificate); or why it could not be read: a key file's problem (the fix is to pass
   * one), or a problem with its own fix (a vault that refused).
   */
  readonly decryptionKey?:
    | EndpointKey
    /** During a rotation the endpoint holds two keys: either may be the app's. */
    | readonly EndpointKey[]
    | string
    | { readonly problem: string; readonly fix: string }
    | undefined
}

/** What doctor checks the tenant against: what register makes, with no opinion on the timeout. */
export function doctorDesired(endpoint: EndpointView): Desired {
  return desired(
    {
      baseUrl: endpoint.baseUrl,
      events: endpoint.events ?? CHECKED_BY_DEFAULT,
      targetAppIds: endpoint.appId === undefined ? [] : [endpoint.appId],
      displayName: 'Entra custom extension',
      claimsMapping: true,
      otpFallback: false,
    },
    { claimNames: endpoint.claimNames },
  )
}

/** Every finding about the registration of the endpoint at `endpoint.baseUrl`. */
export function diagnose(tenant: Tenant, endpoint: EndpointView): Finding[] {
  const want = doctorDesired(endpoint)
  const thePlan = plan(want, tenant)
  const findings = checkTenant(tenant, endpoint)
  const checked = extensionChecks(tenant, thePlan, want, endpoint)
  // A targetUrl or resourceId the checks below explain is not said twice.
  const explained = tenant.extensions
    .filter((e) =>
      checked.some(
        (f) => /^(target-url|resource-id)/.test(f.code) && f.message.startsWith(label(e)),
      ),
    )
    .map((e) => e.id)
  findings.push(
    ...planFindings(thePlan, want).filter(
      (f) =>
        f.code !== 'extension-settings-differ' ||
        !explained.some((id) => f.message.includes(printable(id, 100))),
    ),
  )
  findings.push(...checked)
  findings.push(...checkDuplicateListeners(tenant.listeners, endpoint.appId))
  findings.push(...checkDecryptionKey(tenant, want, endpoint))
  return findings
}

const label = (e: ReadExtension) =>
  `extension ${printable(e.id, 100)}${e.displayName ? ` "${printable(e.displayName, 100)}"` : ''}`

/** The plan's changes that mean something is wrong, as findings. */
function planFindings(thePlan: Plan, want: Desired): Finding[] {
  const reported = thePlan.changes.filter(
    (c): c is Change & { finding: NonNullable<Change['finding']> } =>
      c.kind !== 'unchanged' && c.finding !== undefined && (c.needs ?? []).length === 0,
  )
  const missing = reported.filter((c) => c.finding.code === 'extension-missing')
  // None at all: one error, and nothing about an app nobody uses yet.
  if (missing.length === want.events.length && missing.length > 0)
    return [
      ...reported
        .filter((c) => c.finding.code === 'auth-events-sp-missing')
        .map((c) => finding(c.finding.code, c.detail, fixOf(c))),
      finding(
        'extension-missing',
        `no custom authentication extension points at ${want.base.origin}`,
        `Create one per event you use with targetUrl ${want.base.origin}/api/<event> (npm run register does).`,
      ),
    ]
  return reported.map((c) => {
    if (c.finding.code === 'extension-missing') {
      const event = want.events.find((e) => c.step === `extension ${e.route}`)
      return finding(
        'extension-missing',
        `the endpoint serves ${event?.route ?? '?'}, but no extension of type ${event?.extensionType ?? '?'} points at ${event?.targetUrl ?? '?'}`,
        `If you use this event, create it (npm run register --events ${event?.route ?? '<event>'}); otherwise ignore this.`,
        'warning',
      )
    }
    return finding(
      c.finding.code,
      `${c.step}: ${printable(c.detail, 400)}`,
      fixOf(c),
      c.finding.severity,
    )
  })
}

function fixOf(c: Change & { finding: NonNullable<Change['finding']> }): string {
  if (c.kind === 'conflict') return c.problem
  if (c.kind === 'leave-alone') return c.warning
  if (c.kind === 'create' || c.kind === 'update')
    return `${FINDINGS[c.finding.code].fix}: ${c.request.method} ${c.request.path} ${JSON.stringify(c.request.body)}`.slice(
      0,
      600,
    )
  return FINDINGS[c.finding.code].fix
}

// ---- the checks that need the endpoint's settings -------------------------------------------

/** The tenant Graph answered for, against ENTRA_TENANT_ID and ENTRA_ISSUER (contract §2). */
function checkTenant(tenant: Tenant, endpoint: EndpointView): Finding[] {
  const tenantId = tenant.organization.id.toLowerCase()
  if (tenantId !== endpoint.tenantId.toLowerCase())
    return [
      finding(
        'tenant-mismatch',
        `Graph answered for tenant ${tenantId}, but ENTRA_TENANT_ID is ${endpoint.tenantId}: the endpoint rejects this tenant's tokens`,
        `Set ENTRA_TENANT_ID=${tenantId} (and ENTRA_ISSUER to match), or sign in to the tenant the endpoint serves (AZURE_TENANT_ID).`,
      ),
    ]
  const ciam = tenant.organization.tenantType?.toUpperCase() === 'CIAM'
  const accepted = endpoint.issuers.map((i) => i.toLowerCase())
  const kindAccepted = ciam
    ? accepted.some((i) => i.includes('.ciamlogin.com/'))
    : accepted.some(
        (i) =>
          i.startsWith('https://login.microsoftonline.com/') ||
          i.startsWith('https://sts.windows.net/'),
      )
  if (kindAccepted) return []
  return [
    finding(
      'issuer-mismatch',
      `tenant ${tenantId} is ${ciam ? 'an External ID (CIAM) tenant, whose tokens come from ciamlogin.com' : 'a workforce tenant, whose tokens come from login.microsoftonline.com'}, but ENTRA_ISSUER accepts only ${endpoint.issuers.join(', ')}`,
      `Set ENTRA_ISSUER=${recommendedIssuers(tenantId).join(',')} (or leave it unset: that is the default, and what npm run register prints).`,
    ),
  ]
}

/** The extensions that are the endpoint's: at its host, or called for --app's sign-ins. */
function oursOf(tenant: Tenant, want: Desired, appId: string | undefined): ReadExtension[] {
  const listened = new Set(
    appId === undefined
      ? []
      : tenant.listeners
          .filter((l) => listenerAppIds(l).includes(appId.toLowerCase()))
          .map((l) => lower(l.handler?.customExtension?.id)),
  )
  return tenant.extensions.filter(
    (e) => hostOf(e.endpointConfiguration?.targetUrl) === want.host || listened.has(lower(e.id)),
  )
}

function hostOf(url: string | null | undefined): string | undefined {
  try {
    return url ? new URL(url).host.toLowerCase() : undefined
  } catch {
    return undefined
  }
}

function extensionChecks(
  tenant: Tenant,
  thePlan: Plan,
  want: Desired,
  endpoint: EndpointView,
): Finding[] {
  const findings: Finding[] = []
  const planned = new Set(
    thePlan.changes
      .filter((c) => c.kind !== 'unchanged' && c.finding !== undefined)
      .map((c) => c.step),
  )
  for (const e of oursOf(tenant, want, endpoint.appId)) {
    const own = [
      ...checkTargetUrl(e, want.base),
      ...checkResourceId(e),
      ...checkAudience(e, tenant, endpoint),
      ...checkIssuer(e, tenant, endpoint),
      ...checkClientConfiguration(e, endpoint),
      ...checkClaimsServed(e, endpoint),
    ]
    findings.push(...own)
    const route = routeOfTargetUrl(e.endpointConfiguration?.targetUrl, want.base)
    if (
      own.length === 0 &&
      route !== undefined &&
      want.events.some((ev) => ev.route === route) &&
      !planned.has(`extension ${route}`) &&
      !planned.has(`listener ${route}`)
    )
      findings.push(
        finding('extension-ok', `${label(e)} (${route}) is registered correctly`, '', 'ok'),
      )
  }
  return findings
}

function checkTargetUrl(e: ReadExtension, base: URL): Finding[] {
  const raw = e.endpointConfiguration?.targetUrl ?? ''
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return [
      finding(
        'target-url-invalid',
        `${label(e)}: targetUrl is not a URL (Entra 1003020)`,
        `Set endpointConfiguration.targetUrl to ${base.origin}/api/<route>.`,
      ),
    ]
  }
  const findings: Finding[] = []
  if (url.host.toLowerCase() !== base.host.toLowerCase() || url.protocol !== 'https:')
    findings.push(
      finding(
        'target-url-host',
        `${label(e)}: targetUrl ${url.origin} is not the deployed endpoint ${base.origin}`,
        `Set endpointConfiguration.targetUrl to ${base.origin}/api/<route>, or pass the right --url.`,
      ),
    )
  else if (routeOfTargetUrl(raw, base) === undefined)
    findings.push(
      finding(
        'target-url-path',
        `${label(e)}: targetUrl path ${url.pathname} is none of ${base.origin}/api/{${ROUTES.join(',')}}`,
        "Point targetUrl at the route of the extension's event, e.g. /api/onTokenIssuanceStart.",
      ),
    )
  if (url.search !== '')
    findings.push(
      finding(
        'target-url-query',
        `${label(e)}: targetUrl carries a query string (a function key?)`,
        'Remove the query: this endpoint authenticates Entra by the bearer token, not a function key (npm run register does).',
      ),
    )
  return findings
}

function checkResourceId(e: ReadExtension): Finding[] {
  const resourceId = e.authenticationConfiguration?.resourceId ?? ''
  const match = RESOURCE_ID.exec(resourceId)
  if (match === null)
    return [
      finding(
        'resource-id-format',
        `${label(e)}: resourceId "${printable(resourceId, 200)}" is not api://{fqdn}/{appId} (Entra 1003014)`,
        "Set authenticationConfiguration.resourceId to the extension app's identifier URI api://{targetUrl host}/{appId}.",
      ),
    ]
  const targetHost = hostOf(e.endpointConfiguration?.targetUrl)
  if (targetHost !== undefined && (match[1] ?? '').toLowerCase() !== targetHost)
    return [
      finding(
        'resource-id-host',
        `${label(e)}: resourceId host ${match[1] ?? ''} is not the targetUrl host ${targetHost} (Entra 1003015)`,
        `Give the app the identifier URI api://${targetHost}/${match[2] ?? ''} and use it as resourceId.`,
      ),
    ]
  return []
}

/** The extension's app, when it is the one the plan found. */
function appOf(e: ReadExtension, tenant: Tenant) {
  const appId = RESOURCE_ID.exec(
    e.authenticationConfiguration?.resourceId ?? '',
  )?.[2]?.toLowerCase()
  const app = tenant.extensionApp
  return { appId, app: app !== undefined && lower(app.appId) === appId ? app : undefined }
}

function checkAudience(e: ReadExtension, tenant: Tenant, endpoint: EndpointView): Finding[] {
  const resourceId = e.authenticationConfiguration?.resourceId ?? ''
  const { appId, app } = appOf(e, tenant)
  if (appId === undefined) return [] // resource-id-format says it
  const audiences = endpoint.audiences.map((a) => a.toLowerCase())
  const version = app?.api?.requestedAccessTokenVersion
  // v2 tokens carry the client id, v1 (null) tokens the identifier URI (contract §2).
  const expected = app === undefined ? [resourceId, appId] : version === 2 ? [appId] : [resourceId]
  if (expected.some((aud) => aud !== '' && audiences.includes(aud.toLowerCase()))) return []
  const aud = version === 2 ? appId : resourceId
  return [
    finding(
      'audience-mismatch',
      `${label(e)}: Entra's tokens will carry aud ${aud}, which ENTRA_AUDIENCE does not list`,
      `Add ${aud} to ENTRA_AUDIENCE (comma-separated) in the endpoint's app settings.`,
    ),
  ]
}

function checkIssuer(e: ReadExtension, tenant: Tenant, endpoint: EndpointView): Finding[] {
  const { app } = appOf(e, tenant)
  if (app === undefined) return []
  if (app.api?.requestedAccessTokenVersion === 2) return []
  if (endpoint.issuers.some((iss) => iss.startsWith('https://sts.windows.net/'))) return []
  const v1 = v1Issuer(endpoint.tenantId)
  const resourceId = e.authenticationConfiguration?.resourceId ?? ''
  return [
    finding(
      'token-version-v1',
      `${label(e)}: app ${app.appId} gets v1 tokens (requestedAccessTokenVersion is not 2), whose issuer ENTRA_ISSUER does not list`,
      isRegisterMadeApp(app)
        ? `Set api.requestedAccessTokenVersion to 2 on app ${app.appId} (npm run register does), or add ${v1} to ENTRA_ISSUER.`
        : // Switching someone else's app to v2 would break whatever validates its v1 tokens.
          `Add ${v1} to ENTRA_ISSUER (after the default issuers) and keep ${resourceId} in ENTRA_AUDIENCE: app ${app.appId} is not one npm run register created, and other software may validate its v1 tokens, so it stays on v1. Set its api.requestedAccessTokenVersion to 2 only once nothing else relies on those.`,
    ),
  ]
}

/** How far above the needed timeout a registered one may be before doctor mentions it. */
const SLACK_MS = 500

function checkClientConfiguration(e: ReadExtension, endpoint: EndpointView): Finding[] {
  const findings: Finding[] = []
  const timeout = e.clientConfiguration?.timeoutInMilliseconds ?? DEFAULT_TIMEOUT_MS
  const needed = endpoint.requestBudgetMs + TIMEOUT_HEADROOM_MS
  if (timeout > MAX_TIMEOUT_MS)
    findings.push(
      finding(
        'timeout-too-high',
        `${label(e)}: timeoutInMilliseconds ${timeout} is over Entra's maximum of ${MAX_TIMEOUT_MS}`,
        `Set clientConfiguration.timeoutInMilliseconds to at most ${MAX_TIMEOUT_MS}.`,
      ),
    )
  else if (timeout < needed)
    findings.push(
      finding(
        'timeout-below-budget',
        `${label(e)}: timeoutInMilliseconds ${timeout} is below REQUEST_BUDGET_MS ${endpoint.requestBudgetMs} + ${TIMEOUT_HEADROOM_MS} ms headroom; Entra may give up (1003005) before the endpoint answers`,
        `Raise timeoutInMilliseconds to at least ${Math.min(needed, MAX_TIMEOUT_MS)}, or lower REQUEST_BUDGET_MS to ${Math.max(100, timeout - TIMEOUT_HEADROOM_MS)}.`,
      ),
    )
  else if (timeout > needed + SLACK_MS)
    // Not a failure: Entra just waits longer than the endpoint ever takes before it retries or
    // shows the user an error, so a hung connection holds a sign-in for up to 2 × timeout.
    findings.push(
      finding(
        'timeout-above-budget',
        `${label(e)}: timeoutInMilliseconds ${timeout} is well above what the endpoint needs (REQUEST_BUDGET_MS ${endpoint.requestBudgetMs} + ${TIMEOUT_HEADROOM_MS} ms); when a call hangs, the user waits up to ${timeout * (1 + (e.clientConfiguration?.maximumRetries ?? 1))} ms`,
        `Lower timeoutInMilliseconds to ${needed} (npm run register --timeout ${needed}), or raise REQUEST_BUDGET_MS if the sources need the time.`,
      ),
    )
  const retries = e.clientConfiguration?.maximumRetries
  if (retries !== undefined && retries !== null && retries !== 0 && retries !== 1)
    findings.push(
      finding(
        'retries-invalid',
        `${label(e)}: maximumRetries ${retries} is neither 0 nor 1`,
        'Set clientConfiguration.maximumRetries to 0 or 1.',
      ),
    )
  return findings
}

function checkClaimsServed(e: ReadExtension, endpoint: EndpointView): Finding[] {
  if (e['@odata.type'] !== ROUTE_TYPES.onTokenIssuanceStart.extension) return []
  const extra = (e.claimsForTokenConfiguration ?? [])
    .map((c) => c.claimIdInApiResponse ?? '')
    .filter((name) => name !== '' && !endpoint.claimNames.includes(name))
  if (extra.length === 0) return []
  // Claim names are Graph's text: printed as printable text only.
  const names = extra.map((name) => printable(name, 100)).join(', ')
  return [
    finding(
      'claim-not-served',
      `${label(e)}: claimsForTokenConfiguration lists ${names}, which EXTENSION_CONFIG does not configure`,
      `Configure ${names} under tokenIssuanceStart.claims, or remove them from claimsForTokenConfiguration.`,
    ),
  ]
}

/** --app bound to one event by more than one listener: two extensions compete for its sign-ins. */
function checkDuplicateListeners(
  listeners: readonly ReadListener[],
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
        finding(
          'listener-duplicate',
          `--app ${appId}: ${binding.length} ${route} listeners apply to it (${binding.map((l) => printable(l.id, 100)).join(', ')}); Entra runs one of them by priority, and which one is easy to get wrong`,
          'Keep one listener per event and app: remove the app from the others (or delete them).',
        ),
      )
  }
  return findings
}

/** The endpoint's decryption key against the app's encryption certificate, by public key. */
function checkDecryptionKey(tenant: Tenant, want: Desired, endpoint: EndpointView): Finding[] {
  const local = endpoint.decryptionKey
  const app = tenant.extensionApp
  if (want.encryption === undefined || local === undefined || app === undefined) return []
  const current = lower(app.tokenEncryptionKeyId)
  const key = (app.keyCredentials ?? []).find((k) => lower(k.keyId) === current && k.key)
  if (key?.key === undefined || key.key === null) return [] // encryption-certificate-missing says it
  if (typeof local === 'string' || 'problem' in local)
    return [
      finding(
        'encryption-key-mismatch',
        `the endpoint's decryption key could not be compared with the app's certificate: ${typeof local === 'string' ? local : local.problem}`,
        typeof local === 'string'
          ? 'Pass the endpoint key or its certificate with --certificate (PEM).'
          : local.fix,
        'warning',
      ),
    ]
  let remote: ReturnType<typeof certificateOf>
  try {
    remote = certificateOf(Buffer.from(key.key, 'base64'))
  } catch {
    return []
  }
  const keys: readonly EndpointKey[] = 'spki' in local ? [local] : local
  if (keys.some((k) => k.spki === remote.publicKeySpki)) return []
  return [
    finding(
      'encryption-key-mismatch',
      `the endpoint's ${keys.length === 1 ? 'key' : 'keys'} (${keys.map((k) => k.source).join(', ')}) ${keys.length === 1 ? 'is not' : 'are not'} the key of app ${app.appId}'s encryption certificate ${remote.thumbprint} (keyId ${key.keyId ?? ''}): Entra encrypts passwords the endpoint cannot decrypt`,
      `Register the certificate of the endpoint's key: npm run register -- --events onPasswordSubmit --certificate <its cert.pem> (or give the endpoint the key of certificate ${remote.thumbprint}).`,
    ),
  ]
}
