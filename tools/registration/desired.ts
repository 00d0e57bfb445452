// desired(options, endpointSettings): what Entra should hold for the endpoint at options.baseUrl
// and the chosen events (contract §7), as data: no I/O. The per-event parts come from the event
// descriptors (src/events/<event>/event.ts, `registration`): each names its Graph types and, in
// `parts`, what else it needs (claims, a claims mapping policy, the OTP fallback, an encryption
// certificate, a migration property), which this module turns into desired objects.
import { EVENTS } from '../../src/events/index.js'
import type { RegistrationChoices, RegistrationPart } from '../../src/events/event.js'
import type { EventRoute } from '../../src/events/routes.js'
import type { Version } from './graph-types.js'
import type { EncryptionCertificate } from './certificate.js'

import { REGISTER_UNIQUE_NAME_PREFIX } from './entra-objects.js'

/** A uniqueName per endpoint host, so that the app is found again on the next run. */
export function extensionAppUniqueName(host: string): string {
  // Graph documents uniqueName as a client-provided alternate key; its allowed characters are not
  // spelled out (UNCONFIRMED): keep to lower-case letters, digits, dots and dashes.
  return `${REGISTER_UNIQUE_NAME_PREFIX}${host.toLowerCase().replace(/[^a-z0-9.-]/g, '-')}`
}

/** The default name of OnPasswordSubmit's migration flag (contract §6b). */
export const DEFAULT_MIGRATION_PROPERTY = 'toBeMigrated'

export interface RegistrationOptions {
  /** The deployed base URL, e.g. https://contoso-ext.azurewebsites.net (no trailing slash). */
  readonly baseUrl: string
  readonly events: readonly EventRoute[]
  /** The client apps whose sign-ins call the endpoint (listener conditions, claims mapping). */
  readonly targetAppIds: readonly string[]
  /** Prefix of the display names of what is created. */
  readonly displayName: string
  /** Entra's timeout and retries; undefined: whatever is registered (doctor checks the budget). */
  readonly client?: { readonly timeoutMs: number; readonly maximumRetries: 0 | 1 } | undefined
  /** Use this existing app registration for the extension instead of finding or creating one. */
  readonly extensionAppId?: string | undefined
  readonly claimsMapping: boolean
  readonly otpFallback: boolean
  /** The certificate whose public part Entra encrypts to (OnPasswordSubmit); undefined: not checked. */
  readonly certificate?: EncryptionCertificate | undefined
  readonly migrationPropertyName?: string | undefined
}

/** What the endpoint itself is configured with, as far as registration depends on it. */
export interface EndpointSettings {
  /** EXTENSION_CONFIG tokenIssuanceStart.claims names. */
  readonly claimNames: readonly string[]
}

export interface DesiredEvent {
  readonly route: EventRoute
  readonly version: Version
  readonly extensionType: string
  readonly listenerType: string
  readonly handlerType: string
  /** {base}/api/{route} */
  readonly targetUrl: string
  readonly displayName: string
  readonly description: string
  readonly listenerNeedsApps: boolean
  /** claimsForTokenConfiguration: at least these (undefined: the event's extension has none). */
  readonly tokenClaims: readonly string[] | undefined
  /** behaviorOnError fallbackToMicrosoftProviderOnError on the extension and the handler. */
  readonly fallbackToMicrosoft: boolean
  /** The migration property's name (not its full extension_… name), when the handler names one. */
  readonly migrationProperty: string | undefined
}

export interface Desired {
  readonly base: URL
  /** The endpoint's host, lower case: the host of every targetUrl and of the resourceId. */
  readonly host: string
  readonly displayName: string
  readonly extensionApp: {
    /** --extension-app: this app, whoever made it; else the one with `uniqueName`. */
    readonly appId: string | undefined
    readonly uniqueName: string
  }
  readonly client: RegistrationOptions['client']
  readonly targetAppIds: readonly string[]
  readonly events: readonly DesiredEvent[]
  /** Token issuance: a policy mapping these claims on each target app. */
  readonly claimsMapping:
    { readonly displayName: string; readonly claimNames: readonly string[] } | undefined
  /** The extension app's encryption certificate: wanted, and which one (when given). */
  readonly encryption: { readonly certificate: EncryptionCertificate | undefined } | undefined
  /** The boolean extension property on the b2c-extensions-app. */
  readonly migrationProperty: { readonly name: string } | undefined
}

const byName = new Map(EVENTS.map((event) => [event.name, event]))

/** The events register and doctor handle: every event. */
export const REGISTRABLE: readonly EventRoute[] = EVENTS.map((e) => e.name)

/** What doctor checks when not told: the events that need nothing beyond an extension and a listener. */
export const CHECKED_BY_DEFAULT: readonly EventRoute[] = REGISTRABLE.filter(
  (route) => byName.get(route)?.registration.onlyWhenNamed !== true,
)

/** Whether the event's listener must name apps (--app required). */
export const listenerNeedsApps = (route: EventRoute) =>
  byName.get(route)?.registration.listenerNeedsApps === true

/** Whether the event needs an encryption certificate (--certificate required). */
export const needsCertificate = (route: EventRoute) =>
  (
    byName.get(route)?.registration.parts?.({
      claimNames: [],
      claimsMapping: true,
      otpFallback: true,
      migrationPropertyName: DEFAULT_MIGRATION_PROPERTY,
    }) ?? []
  ).some((part) => part.kind === 'encryptionCertificate')

export function desired(options: RegistrationOptions, endpoint: EndpointSettings): Desired {
  const base = new URL(options.baseUrl)
  const host = base.host.toLowerCase()
  const root = `${base.origin}${base.pathname.replace(/\/+$/, '')}`
  const choices: RegistrationChoices = {
    claimNames: endpoint.claimNames,
    claimsMapping: options.claimsMapping,
    otpFallback: options.otpFallback,
    migrationPropertyName: options.migrationPropertyName ?? DEFAULT_MIGRATION_PROPERTY,
  }
  let claimsMapping: Desired['claimsMapping']
  let encryption: Desired['encryption']
  let migrationProperty: Desired['migrationProperty']
  const events = options.events.map((route): DesiredEvent => {
    const event = byName.get(route)
    if (event === undefined) throw new Error(`no event ${route}`)
    const registration = event.registration
    const parts: readonly RegistrationPart[] = registration.parts?.(choices) ?? []
    let tokenClaims: readonly string[] | undefined
    let fallbackToMicrosoft = false
    let migration: string | undefined
    for (const part of parts) {
      switch (part.kind) {
        case 'tokenClaims':
          tokenClaims = part.claimNames
          break
        case 'claimsMappingPolicy':
          claimsMapping = { displayName: `Custom claims from ${host}`, claimNames: part.claimNames }
          break
        case 'fallbackToMicrosoft':
          fallbackToMicrosoft = true
          break
        case 'encryptionCertificate':
          encryption = { certificate: options.certificate }
          break
        case 'migrationProperty':
          migration = part.name
          migrationProperty = { name: part.name }
          break
      }
    }
    return {
      route,
      version: registration.graphVersion ?? 'v1.0',
      extensionType: registration.extensionType,
      listenerType: registration.listenerType,
      handlerType: registration.handlerType,
      targetUrl: `${root}/api/${route}`,
      displayName: `${options.displayName} (${route})`,
      description: `Created by npm run register for ${base.origin}`,
      listenerNeedsApps: registration.listenerNeedsApps === true,
      tokenClaims,
      fallbackToMicrosoft,
      migrationProperty: migration,
    }
  })
  return {
    base,
    host,
    displayName: options.displayName,
    extensionApp: { appId: options.extensionAppId, uniqueName: extensionAppUniqueName(host) },
    client: options.client,
    targetAppIds: options.targetAppIds,
    events,
    claimsMapping,
    encryption,
    migrationProperty,
  }
}
