// The service principals Entra needs (contract §7.1, trap 12): the caller's ("Azure AD
// authentication events", which a new tenant may lack: extension creation then fails) and the
// extension app's, enabled. Created with POST /servicePrincipals { appId }.
import { AUTH_EVENTS_APP_ID } from '../entra-objects.js'
import type { ServicePrincipalBody } from '../graph-types.js'
import type { ReadServicePrincipal } from '../graph-types.js'
import {
  isPlaceholder,
  placeholder,
  type Change,
  type FindingRef,
  type PlanContext,
} from '../changes.js'

function planOne(
  ctx: PlanContext,
  step: string,
  appId: string,
  found: ReadServicePrincipal | undefined,
  findings: { readonly missing: FindingRef; readonly disabled?: FindingRef },
): { id: string; changes: Change[] } {
  if (found === undefined) {
    const id = placeholder(step)
    return {
      id,
      changes: [
        {
          kind: 'create',
          step,
          object: 'servicePrincipal',
          detail: `service principal for app ${appId}`,
          request: {
            method: 'POST',
            path: '/v1.0/servicePrincipals',
            body: { appId } satisfies ServicePrincipalBody,
          },
          binds: { [id]: 'id' },
          finding: findings.missing,
        },
      ],
    }
  }
  if (found.accountEnabled === false)
    return {
      id: found.id,
      changes: [
        {
          kind: 'update',
          step,
          object: 'servicePrincipal',
          detail: `enable service principal ${found.id}`,
          fields: ['accountEnabled'],
          request: {
            method: 'PATCH',
            path: `/v1.0/servicePrincipals/${ctx.seg(found.id)}`,
            body: { accountEnabled: true } satisfies ServicePrincipalBody,
          },
          finding: findings.disabled,
        },
      ],
    }
  return {
    id: found.id,
    changes: [
      {
        kind: 'unchanged',
        step,
        object: 'servicePrincipal',
        detail: `service principal ${found.id} for app ${appId}`,
      },
    ],
  }
}

export function planServicePrincipals(ctx: PlanContext) {
  const { tenant } = ctx
  return {
    authEvents: planOne(
      ctx,
      'authentication events service principal',
      AUTH_EVENTS_APP_ID,
      tenant.authEventsServicePrincipal,
      { missing: { code: 'auth-events-sp-missing' }, disabled: { code: 'auth-events-sp-missing' } },
    ).changes,
    /** The extension app's, for `appId` (a placeholder when the app is to be created). */
    extension: (appId: string) =>
      planOne(
        ctx,
        'extension service principal',
        appId,
        isPlaceholder(appId) ? undefined : tenant.extensionServicePrincipal,
        {
          missing: { code: 'service-principal-missing' },
          disabled: { code: 'service-principal-disabled' },
        },
      ),
  }
}
