// plan(desired, tenant): what must change for the tenant to hold what is desired, as typed
// changes (changes.ts) in the order they are to be applied. No I/O: the tenant was read before
// (read-tenant.ts), and apply.ts makes the writes. Each kind of object is planned by its own step
// (steps/*.ts); an object planned for creation is named by a placeholder ("<new app>") until
// apply learns its ID, so later steps can refer to it.
import type { EventRoute } from '../../src/events/routes.js'
import { isPlaceholder, isWrite, type Change, type Plan, type PlanContext } from './changes.js'
import type { Desired } from './desired.js'
import type { Tenant } from './read-tenant.js'
import { planServicePrincipals } from './steps/service-principals.js'
import { planExtensionApp } from './steps/extension-app.js'
import { planEncryptionKey } from './steps/encryption-key.js'
import { planConsent } from './steps/consent.js'
import { planMigrationProperty } from './steps/migration-property.js'
import { planExtension } from './steps/extension.js'
import { planListener } from './steps/listener.js'
import { planClaimsMapping } from './steps/claims-mapping.js'

/** Nothing to write and nothing that cannot be done: what a second run plans. */
export function isEmpty(plan: Plan): boolean {
  return !plan.changes.some((c) => isWrite(c) || c.kind === 'conflict')
}

export function plan(want: Desired, tenant: Tenant): Plan {
  const ctx: PlanContext = {
    desired: want,
    tenant,
    seg: (id) => (isPlaceholder(id) ? id : encodeURIComponent(id)),
  }
  const changes: Change[] = []
  const sps = planServicePrincipals(ctx)
  changes.push(...sps.authEvents)
  const app = planExtensionApp(ctx)
  changes.push(...app.changes)
  if (want.encryption !== undefined) changes.push(...planEncryptionKey(ctx, app))
  const sp = sps.extension(app.appId)
  changes.push(...sp.changes)
  changes.push(...planConsent(ctx, sp.id))
  const migration = want.migrationProperty === undefined ? undefined : planMigrationProperty(ctx)
  if (migration !== undefined) changes.push(...migration.changes)
  const extensionIds: Partial<Record<EventRoute, string>> = {}
  for (const event of want.events) {
    const extension = planExtension(ctx, event, app.resourceId)
    changes.push(...extension.changes)
    extensionIds[event.route] = extension.id
    changes.push(
      ...planListener(
        ctx,
        event,
        extension.id,
        event.migrationProperty === undefined ? undefined : migration?.propertyId,
      ),
    )
  }
  if (want.claimsMapping !== undefined) changes.push(...planClaimsMapping(ctx, want.claimsMapping))
  return {
    tenantId: tenant.organization.id.toLowerCase(),
    tenantType: tenant.organization.tenantType ?? undefined,
    extensionAppId: app.appId,
    resourceId: app.resourceId,
    tokenVersion: app.tokenVersion,
    extensionIds,
    versions: Object.fromEntries(want.events.map((e) => [e.route, e.version])),
    changes: changes.map(withNeeds),
  }
}

/** A change with every placeholder its request names among its `needs`. */
function withNeeds(change: Change): Change {
  if (!isWrite(change)) return change
  const text = `${change.request.path} ${JSON.stringify(change.request.body)}`
  const own = change.kind === 'create' ? Object.keys(change.binds) : []
  const named = [...text.matchAll(/<new [^>]+>/g)].map((m) => m[0]).filter((p) => !own.includes(p))
  const needs = [...new Set([...(change.needs ?? []), ...named])]
  return needs.length === 0 ? change : { ...change, needs }
}
