// OnPasswordSubmit's migration flag (contract §6b): a boolean directory extension property for
// users on the tenant's b2c-extensions-app, created when missing (POST
// /applications/{id}/extensionProperties). Its full name, extension_{appId without dashes}_{name},
// is what the listener's handler names as migrationPropertyId.
import { printable } from '../entra-objects.js'
import type { ExtensionPropertyBody } from '../graph-types.js'
import type { Change, PlanContext } from '../changes.js'

const STEP = 'migration extension property'

export const migrationPropertyId = (b2cAppId: string, name: string) =>
  `extension_${b2cAppId.replace(/-/g, '').toLowerCase()}_${name}`

export function planMigrationProperty(ctx: PlanContext): {
  changes: Change[]
  propertyId: string | undefined
} {
  const name = ctx.desired.migrationProperty?.name ?? ''
  const b2c = ctx.tenant.b2cExtensionsApp
  if (b2c === undefined || b2c === null)
    return {
      propertyId: undefined,
      changes: [
        {
          kind: 'conflict',
          step: STEP,
          object: 'extensionProperty',
          detail: 'no b2c-extensions-app in the tenant',
          problem: `the tenant has no b2c-extensions-app, which holds its directory extension properties (every External ID tenant has one): the migration property ${name} cannot be created. Check that this is the External ID tenant the users are migrated to.`,
          finding: { code: 'b2c-extensions-app-missing' },
        },
      ],
    }
  const propertyId = migrationPropertyId(b2c.app.appId, name)
  const found = b2c.properties.find((p) => p.name?.toLowerCase() === propertyId.toLowerCase())
  if (found === undefined)
    return {
      propertyId,
      changes: [
        {
          kind: 'create',
          step: STEP,
          object: 'extensionProperty',
          detail: `${propertyId} (Boolean, for users) on the b2c-extensions-app ${b2c.app.appId}`,
          request: {
            method: 'POST',
            path: `/v1.0/applications/${ctx.seg(b2c.app.id)}/extensionProperties`,
            body: {
              name,
              dataType: 'Boolean',
              targetObjects: ['User'],
            } satisfies ExtensionPropertyBody,
          },
          binds: {},
          finding: { code: 'migration-property-missing' },
        },
      ],
    }
  const fitting = found.dataType === 'Boolean' && (found.targetObjects ?? []).includes('User')
  // Graph's text, printed: printable only.
  const dataType = printable(found.dataType ?? '?', 60)
  const targets = printable((found.targetObjects ?? []).join(', '), 200)
  const foundId = printable(found.id ?? '', 100)
  return {
    propertyId,
    changes: [
      fitting
        ? {
            kind: 'unchanged',
            step: STEP,
            object: 'extensionProperty',
            detail: `${propertyId} (Boolean, for users)`,
          }
        : {
            kind: 'conflict',
            step: STEP,
            object: 'extensionProperty',
            detail: `${propertyId} is a ${dataType} for ${targets}`,
            problem: `the extension property ${propertyId} exists but is a ${dataType} for ${targets || 'nothing'}, not a Boolean for users: Entra cannot use it as the migration flag. Choose another name (--migration-property) or delete it (DELETE /v1.0/applications/${printable(b2c.app.id, 100)}/extensionProperties/${foundId}) and run register again.`,
            finding: { code: 'migration-property-missing' },
          },
    ],
  }
}
