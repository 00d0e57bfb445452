// The shape of an event descriptor: everything the endpoint, the configuration, the registration
// tools and the tests need to know of one Entra event, in one object per event folder
// (src/events/<event>/event.ts), listed once in src/events/index.ts. Everything else derives from
// that list: the routes of both hosts, the EXTENSION_CONFIG schema, the handlers' wiring, the
// Graph objects register creates and the routes the Bicep deploys.
import type * as z from 'zod'
import type { LocalizedText } from '../extension-config/localized-text.js'
import type { Logger } from '../log.js'
import type { SourceRunner } from '../sources/run-sources.js'
import type { RemoteValidator } from '../sign-up/remote-validation.js'
import type { OtpMailing } from '../mail/otp-mailing.js'
import type { HandlerContext } from './handler-context.js'
import type { PasswordMigration } from '../passwords/password-migration.js'

/**
 * What a declarative handler may ask for besides its own section of EXTENSION_CONFIG: built once
 * per process by src/app.ts. (Not the whole Config: its type is derived from the descriptors.)
 */
export interface EndpointDependencies {
  /** EXTENSION_CONFIG's defaultLocale. */
  readonly defaultLocale: string
  readonly log: Logger
  readonly now: () => number
  /** The tokenIssuanceStart data sources, when any is configured. */
  readonly sources: SourceRunner | undefined
  /** attributeCollectionSubmit.remoteValidation, when configured. */
  readonly remoteValidator: RemoteValidator | undefined
  /** The OnOtpSend mail provider and its stores, when MAIL_PROVIDER is set. */
  readonly otpMailing: OtpMailing | undefined
  /** OnPasswordSubmit's decryption keys, legacy hashes and digest key, when configured. */
  readonly passwordMigration: PasswordMigration | undefined
}

/** A handler of one event: the validated request in, the answer out (validated by the pipeline). */
export type EventHandler<Request, Response> = (
  event: Request,
  context: HandlerContext,
) => Promise<Response>

/** A text of the configuration and its path, for the check that it has the default locale. */
export type ConfigText = readonly [path: (string | number)[], text: LocalizedText]

/**
 * What the operator chose that an event's registration depends on (`npm run register`'s options
 * and EXTENSION_CONFIG), as an event's `registration.parts` sees it.
 */
export interface RegistrationChoices {
  /** EXTENSION_CONFIG tokenIssuanceStart.claims names. */
  readonly claimNames: readonly string[]
  /** Create and assign a claims mapping policy for those claims (--no-claims-mapping: false). */
  readonly claimsMapping: boolean
  /** --otp-fallback: Entra sends its own e-mail when the endpoint fails. */
  readonly otpFallback: boolean
  /** The directory extension property that marks the users to migrate (--migration-property). */
  readonly migrationPropertyName: string
}

/**
 * One more thing an event needs in Entra besides its extension and listener, as plain data: the
 * registration tools (tools/registration/desired.ts) turn each kind into Graph objects.
 */
export type RegistrationPart =
  /** claimsForTokenConfiguration on the extension: these claims (only ever added to). */
  | { readonly kind: 'tokenClaims'; readonly claimNames: readonly string[] }
  /**
   * A claims mapping policy for these claims, assigned to each --app service principal, and
   * api.acceptMappedClaims on each single-tenant --app registration (contract §4, trap 16).
   */
  | { readonly kind: 'claimsMappingPolicy'; readonly claimNames: readonly string[] }
  /** behaviorOnError fallbackToMicrosoftProviderOnError, on the extension and on the listener's handler. */
  | { readonly kind: 'fallbackToMicrosoft' }
  /**
   * A certificate on the extension's app: a keyCredential with usage Encrypt, named by the app's
   * tokenEncryptionKeyId, to which Entra encrypts what it sends (OnPasswordSubmit).
   */
  | { readonly kind: 'encryptionCertificate' }
  /**
   * A boolean directory extension property on the tenant's b2c-extensions-app (created when
   * missing), whose full name the listener's handler names in `handlerProperty`.
   */
  | {
      readonly kind: 'migrationProperty'
      readonly name: string
      readonly handlerProperty: 'migrationPropertyId'
    }

/** What an event needs registered in Entra, as Microsoft Graph names it (contract §7). */
export interface EventRegistration {
  /** `@odata.type` of the customAuthenticationExtension, e.g. "#microsoft.graph.onOtpSendCustomExtension". */
  readonly extensionType: string
  /** `@odata.type` of the authenticationEventListener. */
  readonly listenerType: string
  /** `@odata.type` of the listener's handler. */
  readonly handlerType: string
  /** The Graph version its extension and listener are written through (default v1.0). */
  readonly graphVersion?: 'v1.0' | 'beta'
  /** Its listener must name the apps (includeAllApplications is not allowed): --app is required. */
  readonly listenerNeedsApps?: boolean
  /** Registered and checked only when named (--events): it needs more than the others (a certificate). */
  readonly onlyWhenNamed?: boolean
  /** What else it needs registered, from the operator's choices. */
  readonly parts?: (choices: RegistrationChoices) => readonly RegistrationPart[]
}

/** What every code handler's `ctx` holds, whatever the event (src/api, docs/api.md). */
export interface CodeContext<Response> {
  /** Aborts at the request deadline: pass it to every outbound call. */
  readonly signal: AbortSignal
  /** Milliseconds left of the request budget. */
  remainingMs(): number
  /** The PII-safe logger: fields are primitives, with the request's correlation ID. */
  readonly log: Logger
  /** The declarative answer from EXTENSION_CONFIG for this event, to extend or fall back on. */
  defaults(): Promise<Response>
}

/** How code handlers see one event: a plain view of the request and this event's actions. */
export interface EventCode<Request, View, Actions, Section = unknown> {
  /**
   * What runs around every call of a handler written in code, made once per endpoint from the
   * event's section: OnPasswordSubmit's attempt limit and repeated-nonce cache, shared with its
   * declarative handler. `run` calls the handler (after `prepare`); the wrapper may answer without
   * it, with one of the event's answers (the pipeline checks every answer against the schema).
   */
  around?(
    section: Section,
    deps: EndpointDependencies,
  ): (event: Request, context: HandlerContext, run: () => Promise<unknown>) => Promise<unknown>
  /**
   * Work before `view` and `actions` may run (OnPasswordSubmit decrypts its context). Returns the
   * values `ctx.log` must never print: a line holding one has it replaced by "[redacted]".
   */
  prepare?(
    event: Request,
    context: HandlerContext,
    deps: EndpointDependencies,
  ): Promise<readonly string[]>
  view(event: Request): View
  actions(event: Request, context: HandlerContext, deps: EndpointDependencies): Actions
}

export interface EventDescriptor<
  Name extends string = string,
  Request extends z.ZodType = z.ZodType,
  Response extends z.ZodType = z.ZodType,
  Section extends string = string,
  SectionSchema extends z.ZodType = z.ZodType,
  Fixtures extends readonly string[] = readonly string[],
  View = unknown,
  Actions = unknown,
> {
  /** The route under /api/, and the method of the code API (events.onTokenIssuanceStart). */
  readonly name: Name
  /** The request's `type`: a route accepts exactly its own event. */
  readonly type: string
  readonly request: Request
  readonly response: Response
  /** The answer's `data["@odata.type"]` and the `@odata.type` of each action it may carry. */
  readonly responseDataType: string
  readonly actionTypes: readonly string[]
  /** The event's EXTENSION_CONFIG section: its key and its schema (with the defaults applied). */
  readonly config: {
    readonly key: Section
    readonly schema: SectionSchema
    /** Texts shown to users, which must exist in the default locale. */
    readonly texts?: (section: z.output<SectionSchema>) => Iterable<ConfigText>
  }
  readonly registration: EventRegistration
  /** Recorded requests in test/fixtures/events/ (file names without .json). */
  readonly fixtures: Fixtures
  /** The declarative handler, from the event's EXTENSION_CONFIG section and what it asks of `deps`. */
  createHandler(
    section: z.output<SectionSchema>,
    deps: EndpointDependencies,
  ): EventHandler<z.output<Request>, z.output<Response>>
  /** The code API's view of the request and its action builders (events.onX(handler)). */
  readonly code: EventCode<z.output<Request>, View, Actions, z.output<SectionSchema>>
  /**
   * What the response schema cannot see: why this answer does not fit this request (OnPasswordSubmit:
   * the nonce), or undefined. The pipeline refuses such an answer (500 ERR_INVALID_RESPONSE).
   */
  readonly answerProblem?: (
    request: z.output<Request>,
    answer: z.output<Response>,
  ) => string | undefined
}

/** Checks a descriptor against the shape while keeping its literal types. */
export function defineEvent<
  const Name extends string,
  Request extends z.ZodType,
  Response extends z.ZodType,
  const Section extends string,
  SectionSchema extends z.ZodType,
  const Fixtures extends readonly string[],
  View,
  Actions,
>(
  descriptor: EventDescriptor<
    Name,
    Request,
    Response,
    Section,
    SectionSchema,
    Fixtures,
    View,
    Actions
  >,
): EventDescriptor<Name, Request, Response, Section, SectionSchema, Fixtures, View, Actions> {
  return descriptor
}

/** What every event's view has: the whole request and its common fields. */
export interface EventView<Raw> {
  /** The whole validated request body. */
  readonly raw: Raw
  readonly correlationId: string
  /** The client's locale (lower-case, e.g. "sv-se"), when Entra sent one. */
  readonly locale: string | undefined
  /** The appId of the application the user signs in or up to. */
  readonly clientAppId: string | undefined
}

interface WithContext {
  readonly data: {
    readonly authenticationContext: {
      readonly correlationId: string
      readonly client?: { readonly locale?: string | null | undefined } | null | undefined
      readonly clientServicePrincipal?:
        { readonly appId?: string | null | undefined } | null | undefined
    }
  }
}

export function eventView<Raw extends WithContext>(raw: Raw): EventView<Raw> {
  const context = raw.data.authenticationContext
  return {
    raw,
    correlationId: context.correlationId,
    locale: context.client?.locale ?? undefined,
    clientAppId: context.clientServicePrincipal?.appId ?? undefined,
  }
}
