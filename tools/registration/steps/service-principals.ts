// The service principals Entra needs (contract §7.1, trap 12): the caller's ("Azure AD
// authentication events", which a new tenant may lack: extension creation then fails) and the
// extension app's, enabled. Created with POST /servicePrincipals { appId }. A disabled one is left
// as it is, with a warning (doctor: an error): someone may have disabled it on purpose, and one of
// them is Microsoft's first-party "Azure AD authentication events" principal.
import { AUTH_EVENTS_APP_ID, printable } from '../entra-objects.js'
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
  if (found.accountEnabled === false) {
    const id = printable(found.id, 100)
    return {
      id: found.id,
      changes: [
        {
          kind: 'leave-alone',
          step,
          object: 'servicePrincipal',
          detail: `service principal ${id} for app ${appId} is disabled; left as it is`,
          warning: `the service principal ${id} of app ${appId}${appId === AUTH_EVENTS_APP_ID ? ' (Microsoft\'s "Azure AD authentication events", which calls the endpoint)' : ''} is disabled, so Entra cannot call the extension (1003019). register does not enable what someone may have disabled on purpose: if nothing should keep it disabled, enable it (PATCH /v1.0/servicePrincipals/${id} with {"accountEnabled":true}, or az ad sp update --id ${appId} --set accountEnabled=true) and run register again.`,
          finding: findings.disabled,
        },
      ],
    }
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
      'authentication events service principal',
      AUTH_EVENTS_APP_ID,
      tenant.authEventsServicePrincipal,
      { missing: { code: 'auth-events-sp-missing' }, disabled: { code: 'auth-events-sp-missing' } },
    ).changes,
    /** The extension app's, for `appId` (a placeholder when the app is to be created). */
    extension: (appId: string) =>
      planOne(
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
