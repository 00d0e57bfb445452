// `npm run register`, as a library: reads the tenant (read-tenant.ts), builds what it should hold
// (desired.ts), plans the difference (plan.ts, one module per kind of object in steps/) and, unless
// it is a dry run, applies it (apply.ts), then asks Graph to validate each extension. A second run
// plans nothing. The CLI (tools/cli/register.ts) uses the same parts to print the plan and ask
// before applying it; this function runs them in one go, for tests and scripts.
import type { EventRoute } from '../../src/events/routes.js'
import { apply, type Applied } from './apply.js'
import type { EncryptionCertificate } from './certificate.js'
import { desired, type Desired } from './desired.js'
import { printable, recommendedIssuers, v1Issuer } from './entra-objects.js'
import type { GraphClient } from '../graph/client.js'
import { isPlaceholder, isWrite, type Change as PlannedChange, type Plan } from './changes.js'
import { plan } from './plan.js'
import { readTenant, TenantReadError } from './read-tenant.js'

export { extensionAppUniqueName } from './desired.js'
export { claimsMappingDefinition } from './steps/claims-mapping.js'

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
  /** OnPasswordSubmit: the certificate Entra encrypts passwords to. */
  readonly certificate?: EncryptionCertificate | undefined
  /** OnPasswordSubmit: the migration flag's name (default toBeMigrated). */
  readonly migrationPropertyName?: string | undefined
  readonly dryRun: boolean
}

export type ChangeAction = 'created' | 'updated' | 'unchanged' | 'planned' | 'skipped'

/** One line of register's output: a planned change, and what became of it. */
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
  /** The plan the changes came from (placeholders for what was to be created). */
  readonly plan: Plan
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

export function desiredOf(input: Omit<RegisterInput, 'dryRun'>): Desired {
  return desired(
    {
      baseUrl: input.baseUrl,
      events: input.events,
      targetAppIds: input.targetAppIds,
      displayName: input.displayName,
      client: { timeoutMs: input.timeoutMs, maximumRetries: input.maximumRetries },
      extensionAppId: input.extensionAppId,
      claimsMapping: input.claimsMapping,
      otpFallback: input.otpFallback,
      certificate: input.certificate,
      migrationPropertyName: input.migrationPropertyName,
    },
    { claimNames: input.claimNames },
  )
}

/** The tenant as it is, and the plan that makes it hold what `input` asks for. */
export async function planRegistration(graph: GraphClient, input: RegisterInput): Promise<Plan> {
  const want = desiredOf(input)
  try {
    return plan(want, await readTenant(graph, want))
  } catch (err) {
    if (err instanceof TenantReadError) throw new RegisterError(err.message)
    throw err
  }
}

/** What a plan's change is in register's output, before it is applied (or in a dry run). */
export function outputOf(change: PlannedChange, dryRun: boolean): Change {
  const base = { step: change.step, detail: change.detail }
  switch (change.kind) {
    case 'create':
    case 'update':
      return {
        ...base,
        action: dryRun ? 'planned' : change.kind === 'create' ? 'created' : 'updated',
        request: {
          method: change.request.method,
          path: change.request.path,
          body: change.request.body,
          ...(change.request.headers === undefined ? {} : { headers: change.request.headers }),
        },
      }
    case 'unchanged':
      return { ...base, action: 'unchanged' }
    case 'leave-alone':
    case 'conflict':
      return { ...base, action: 'skipped' }
  }
}

/** A change as written: placeholders in its detail and its request replaced by Graph's IDs. */
function resolved(change: Change, applied: Applied): Change {
  return {
    ...change,
    detail: applied.resolve(change.detail),
    ...(change.request === undefined ? {} : { request: applied.resolveRequest(change.request) }),
  }
}

/** The endpoint's app settings for a registration (contract §2). */
export function settingsOf(thePlan: Plan, appId: string, resourceId: string) {
  const tenantId = thePlan.tenantId
  return thePlan.tokenVersion === 2
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
      }
}

/**
 * Applies `thePlan` (unless dryRun) and says what came of it: the changes in plan order, the
 * problems and notes, Graph's validation of each extension and the endpoint's settings.
 */
export async function applyRegistration(
  graph: GraphClient,
  thePlan: Plan,
  dryRun: boolean,
  onWrite: (change: Change, index: number, total: number) => void = () => {},
): Promise<RegisterResult> {
  const applied: Applied | undefined = dryRun
    ? undefined
    : await apply(graph, thePlan, (change, index, total, soFar) =>
        onWrite(resolved(outputOf(change, false), soFar), index, total),
      )
  const resolve = (id: string) => applied?.resolve(id) ?? id
  // After a run, each write's detail and request name what Graph made, not its placeholder.
  const changes = thePlan.changes.map((c) => {
    const out = outputOf(c, dryRun)
    return applied === undefined || !isWrite(c) ? out : resolved(out, applied)
  })
  const extensionIds = Object.fromEntries(
    Object.entries(thePlan.extensionIds).map(([route, id]) => [route, resolve(id)]),
  ) as Partial<Record<EventRoute, string>>
  const appId = resolve(thePlan.extensionAppId)
  const resourceId = resolve(thePlan.resourceId)
  return {
    tenantId: thePlan.tenantId,
    tenantType: thePlan.tenantType,
    extensionAppId: appId,
    resourceId,
    extensionIds,
    changes,
    problems: thePlan.changes.flatMap((c) => (c.kind === 'conflict' ? [c.problem] : [])),
    notes: thePlan.changes.flatMap((c) => (c.kind === 'leave-alone' ? [c.warning] : [])),
    validation: dryRun ? [] : await validate(graph, thePlan, extensionIds),
    settings: settingsOf(thePlan, appId, resourceId),
    plan: thePlan,
  }
}

export async function register(
  graph: GraphClient,
  input: RegisterInput,
  onChange: (change: Change) => void = () => {},
): Promise<RegisterResult> {
  const thePlan = await planRegistration(graph, input)
  for (const change of thePlan.changes)
    if (!isWrite(change)) onChange(outputOf(change, input.dryRun))
  if (input.dryRun)
    for (const change of thePlan.changes.filter(isWrite)) onChange(outputOf(change, true))
  return applyRegistration(graph, thePlan, input.dryRun, (change) => onChange(change))
}

/** Graph's validateAuthenticationConfiguration of each extension, through its event's version. */
async function validate(
  graph: GraphClient,
  thePlan: Plan,
  extensionIds: Partial<Record<EventRoute, string>>,
): Promise<ValidationNote[]> {
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
    if (isPlaceholder(id)) continue
    const version = thePlan.versions[route as EventRoute] ?? 'v1.0'
    try {
      const answer = await graph.post<{ errors?: Item[]; warnings?: Item[] }>(
        `/${version}/identity/customAuthenticationExtensions/${encodeURIComponent(id)}/validateAuthenticationConfiguration`,
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
