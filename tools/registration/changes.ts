// The typed changes a plan is made of (plan.ts makes them, each step in steps/ plans its own kind
// of object, apply.ts writes them, doctor reads them as findings):
//   create       a write that makes the object (request, and the placeholders its answer binds)
//   update       a write of the fields that differ (only ever adds: never narrows what is there)
//   unchanged    it is as desired
//   leave-alone  not made by this tool, or not to be touched: left as it is, with a warning
//   conflict     cannot be made as desired without changing what others made: said, not done
import type { EventRoute } from '../../src/events/routes.js'
import type { FindingCode, SeverityOf } from './findings.js'
import type { Desired } from './desired.js'
import type { Tenant } from './read-tenant.js'
import type { Version } from './graph-types.js'

/** The Graph objects a change is about. */
export type ObjectKind =
  | 'servicePrincipal'
  | 'application'
  | 'appRoleAssignment'
  | 'keyCredential'
  | 'extensionProperty'
  | 'customAuthenticationExtension'
  | 'authenticationEventListener'
  | 'claimsMappingPolicy'
  | 'claimsMappingPolicyAssignment'

/** A write to Graph. Its path and body may name placeholders of objects created before it. */
export interface GraphWrite {
  readonly method: 'POST' | 'PATCH'
  readonly path: string
  readonly body: object
  /** Headers that change what the call does: the upsert's Prefer: create-if-missing. */
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * What doctor makes of a change: a finding code, and its severity when not the code's usual one
 * (one the findings table allows that code: another is a compile error).
 */
export type FindingRef = {
  readonly [C in FindingCode]: { readonly code: C; readonly severity?: SeverityOf<C> }
}[FindingCode]

interface ChangeBase {
  /** What it is about, e.g. "extension onTokenIssuanceStart" (the step names of register's output). */
  readonly step: string
  readonly object: ObjectKind
  readonly detail: string
  /** The finding doctor reports for it (none: doctor does not report it). */
  readonly finding?: FindingRef | undefined
  /** Placeholders of objects this change is about or needs, planned for creation before it. */
  readonly needs?: readonly string[]
}

export interface CreateChange extends ChangeBase {
  readonly kind: 'create'
  readonly request: GraphWrite
  /** Placeholder → the property of Graph's answer that replaces it (e.g. "<new app>" → "id"). */
  readonly binds: Readonly<Record<string, string>>
}
export interface UpdateChange extends ChangeBase {
  readonly kind: 'update'
  /** The properties that differ (those the request sets). */
  readonly fields: readonly string[]
  readonly request: GraphWrite
}
export interface UnchangedChange extends ChangeBase {
  readonly kind: 'unchanged'
}
export interface LeaveAloneChange extends ChangeBase {
  readonly kind: 'leave-alone'
  /** What the operator should know (register's "to note"). */
  readonly warning: string
}
export interface ConflictChange extends ChangeBase {
  readonly kind: 'conflict'
  /** What could not be done, and what to do instead (register's "could not be done"). */
  readonly problem: string
}

export type Change =
  CreateChange | UpdateChange | UnchangedChange | LeaveAloneChange | ConflictChange

export type WriteChange = CreateChange | UpdateChange

export interface Plan {
  readonly tenantId: string
  readonly tenantType: string | undefined
  /** The extension app's client ID (a placeholder when it is to be created). */
  readonly extensionAppId: string
  /** api://{host}/{appId} */
  readonly resourceId: string
  /** The version of the tokens Entra sends the endpoint. */
  readonly tokenVersion: 1 | 2
  /** Extension IDs by event (a placeholder when it is to be created). */
  readonly extensionIds: Readonly<Partial<Record<EventRoute, string>>>
  /** The Graph version each event's extension and listener are written through. */
  readonly versions: Readonly<Partial<Record<EventRoute, Version>>>
  readonly changes: readonly Change[]
}

/** What a step learns that later steps need: the IDs (or placeholders) of what it plans. */
export interface PlanContext {
  readonly desired: Desired
  readonly tenant: Tenant
  /** A path segment for an ID: a placeholder stays readable, a real ID is encoded. */
  readonly seg: (id: string) => string
}

/** What a dry run names an object it would create, in place of the ID Graph would give it. */
export const placeholder = (what: string) => `<new ${what}>`
export const isPlaceholder = (id: string) => id.startsWith('<new ')

export const isWrite = (c: Change): c is WriteChange => c.kind === 'create' || c.kind === 'update'
