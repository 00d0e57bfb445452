// The Microsoft Graph objects of a registration (contract §7), as `register` writes them and
// `doctor` reads them: well-known IDs, the @odata.type of each event's extension, listener and
// handler, and the shapes read back. Read shapes are partial on purpose: Graph adds properties,
// and older objects (made in the portal) may lack some.
import { defaultIssuers } from '../../src/config.js'
import { EVENTS } from '../../src/events/index.js'
import type { EventRoute } from '../../src/events/routes.js'
import type {
  ReadApplication,
  ReadClaimsMappingPolicy,
  ReadExtension,
  ReadListener,
  ReadOrganization,
  ReadServicePrincipal,
} from './graph-types.js'

/** Microsoft Graph's own application. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000'
/** Graph's app role CustomAuthenticationExtension.Receive.Payload (an application permission). */
export const RECEIVE_PAYLOAD_ROLE_ID = '214e810f-fda8-4fd7-a475-29461495eb00'
/** "Azure AD authentication events": the caller of every extension (contract §2, trap 12). */
export const AUTH_EVENTS_APP_ID = '99045fe1-7639-4a75-9d4a-577b6ca3810f'
/** Allowed headroom between the endpoint's budget and Entra's timeout (network, TLS, cold paths). */
export const TIMEOUT_HEADROOM_MS = 250
export const MAX_TIMEOUT_MS = 2000
export const MIN_TIMEOUT_MS = 200
/** What Entra waits when clientConfiguration.timeoutInMilliseconds is null (contract §1, UNCONFIRMED). */
export const DEFAULT_TIMEOUT_MS = 1000

/** Per route: the extension, listener and handler @odata.type Graph uses for its event. */
export const ROUTE_TYPES = Object.fromEntries(
  EVENTS.map(({ name, registration }) => [
    name,
    {
      extension: registration.extensionType,
      listener: registration.listenerType,
      handler: registration.handlerType,
    },
  ]),
) as Readonly<Record<EventRoute, { extension: string; listener: string; handler: string }>>
export const ROUTES = Object.keys(ROUTE_TYPES) as EventRoute[]

/**
 * Where listeners are read: beta, because only beta's authenticationConditionsApplications has
 * includeAllApplications (v1.0 leaves it out, so a listener for all apps looks like one for none),
 * and only beta's listener has priority. Listeners are written through v1.0, without either.
 */
export const LISTENERS_READ_PATH = '/beta/identity/authenticationEventListeners'

export const FALLBACK_TO_MICROSOFT = {
  '@odata.type': '#microsoft.graph.fallbackToMicrosoftProviderOnError',
} as const

/** The resourceId / identifier URI form Entra requires: api://{fqdn of targetUrl}/{appId}. */
export const RESOURCE_ID =
  /^api:\/\/([^/]+)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Text from Graph (display names, error messages) as it may be printed: control characters
 * (ANSI escapes, line breaks) replaced, so that whoever can name an object in the tenant cannot
 * forge lines of a report; and cut to `max` characters.
 */
export function printable(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?')
  return clean.length > max ? `${clean.slice(0, max)}…` : clean
}

/**
 * Lines of a CLI's text output, each made printable (no line is cut): text that came from Graph
 * (names, IDs, claim names, types) can hold terminal escapes, and every line that may carry it
 * goes out through here. JSON output needs none of it (JSON.stringify escapes control characters).
 */
export function printableText(lines: readonly string[]): string {
  return `${lines.map((l) => printable(l, Number.MAX_SAFE_INTEGER)).join('\n')}\n`
}

/**
 * The event route a targetUrl names on the endpoint at `base` ({base path}/api/{route}),
 * compared as Entra and Azure Functions do: host and path case-insensitively, a trailing slash
 * ignored, the query (a function key) ignored. Undefined when it names none, or another host.
 */
export function routeOfTargetUrl(
  targetUrl: string | null | undefined,
  base: URL,
): EventRoute | undefined {
  let url: URL
  try {
    url = new URL(targetUrl ?? '')
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' || url.host.toLowerCase() !== base.host.toLowerCase())
    return undefined
  const trim = (path: string) => path.replace(/\/+$/, '').toLowerCase()
  const prefix = `${trim(base.pathname)}/api/`
  const path = trim(url.pathname)
  if (!path.startsWith(prefix)) return undefined
  const name = path.slice(prefix.length)
  return ROUTES.find((route) => route.toLowerCase() === name)
}

/** The listeners (of any type) whose handler calls the extension `extensionId`. */
export function listenersOf(
  listeners: readonly GraphListener[],
  extensionId: string,
): GraphListener[] {
  return listeners.filter((l) => lower(l.handler?.customExtension?.id) === lower(extensionId))
}

/** The app IDs a listener's conditions name, lower case. */
export function listenerAppIds(listener: GraphListener): string[] {
  return (listener.conditions?.applications?.includeApplications ?? [])
    .map((a) => lower(a.appId))
    .filter((appId) => appId !== '')
}

export const lower = (value: string | null | undefined): string => (value ?? '').toLowerCase()

/** The shapes read back, from Graph's published types (graph-types.ts). */
export type GraphExtension = ReadExtension
export type GraphListener = ReadListener
export type GraphApplication = ReadApplication
export type GraphServicePrincipal = ReadServicePrincipal
export type GraphClaimsMappingPolicy = ReadClaimsMappingPolicy
export type GraphOrganization = ReadOrganization

/**
 * Whether only the app's own tenant signs in to it. Anything else (another audience, or none
 * read) counts as multi-tenant, where acceptMappedClaims must never be set (contract trap 16).
 */
export function isSingleTenant(app: { readonly signInAudience?: string | null }): boolean {
  return app.signInAudience === 'AzureADMyOrg'
}

/** The claim IDs a claims mapping policy definition maps from the custom claims provider. */
export function customClaimIds(policy: GraphClaimsMappingPolicy): Set<string> {
  const ids = new Set<string>()
  for (const text of policy.definition ?? []) {
    try {
      const parsed = JSON.parse(text) as {
        ClaimsMappingPolicy?: { ClaimsSchema?: { Source?: string; ID?: string }[] }
      }
      for (const entry of parsed.ClaimsMappingPolicy?.ClaimsSchema ?? [])
        if (entry.Source?.toLowerCase() === 'customclaimsprovider' && entry.ID) ids.add(entry.ID)
    } catch {
      // an unreadable definition maps nothing
    }
  }
  return ids
}

/**
 * How an extension app register created is known again (its uniqueName starts with this), and so
 * may be changed freely: another app may be used by other software (its token version, above all).
 */
export const REGISTER_UNIQUE_NAME_PREFIX = 'custom-auth-extension-'

export function isRegisterMadeApp(app: { readonly uniqueName?: string | null }): boolean {
  return app.uniqueName?.startsWith(REGISTER_UNIQUE_NAME_PREFIX) === true
}

/** The issuer of the tenant's v1 tokens (contract §2); its keys come from login.microsoftonline.com. */
export function v1Issuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId.toLowerCase()}/`
}

/**
 * The issuers to recommend for ENTRA_ISSUER: exactly those the endpoint accepts when it is unset
 * (src/config.ts), so that register's advice and doctor's fix never narrow the endpoint's default.
 */
export function recommendedIssuers(tenantId: string): string[] {
  return defaultIssuers(tenantId.toLowerCase())
}
