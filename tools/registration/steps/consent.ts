// Admin consent for the Graph application permission CustomAuthenticationExtension.Receive.Payload
// (contract §7.1, else Entra 1003021): an app role assignment from the extension's service
// principal to Microsoft Graph's.
import { GRAPH_APP_ID, lower, RECEIVE_PAYLOAD_ROLE_ID } from '../entra-objects.js'
import type { AppRoleAssignmentBody } from '../graph-types.js'
import { isPlaceholder, type Change, type PlanContext } from '../changes.js'

const STEP = 'admin consent for CustomAuthenticationExtension.Receive.Payload'

export function planConsent(ctx: PlanContext, spId: string): Change[] {
  const graphSp = ctx.tenant.graphServicePrincipal
  if (graphSp === undefined)
    return [
      {
        kind: 'conflict',
        step: STEP,
        object: 'appRoleAssignment',
        detail: 'no service principal for Microsoft Graph',
        problem: `the tenant has no service principal for Microsoft Graph (${GRAPH_APP_ID}); Entra reports 1003022. Create it (az ad sp create --id ${GRAPH_APP_ID}) and run register again.`,
        finding: { code: 'permission-not-consented' },
      },
    ]
  const granted =
    !isPlaceholder(spId) &&
    ctx.tenant.extensionGrants.some(
      (a) =>
        lower(a.appRoleId) === RECEIVE_PAYLOAD_ROLE_ID && lower(a.resourceId) === lower(graphSp.id),
    )
  if (granted)
    return [
      {
        kind: 'unchanged',
        step: STEP,
        object: 'appRoleAssignment',
        detail: `granted to service principal ${spId}`,
      },
    ]
  return [
    {
      kind: 'create',
      step: STEP,
      object: 'appRoleAssignment',
      detail: `grant the app role to service principal ${spId}`,
      request: {
        method: 'POST',
        path: `/v1.0/servicePrincipals/${ctx.seg(spId)}/appRoleAssignments`,
        body: {
          principalId: spId,
          resourceId: graphSp.id,
          appRoleId: RECEIVE_PAYLOAD_ROLE_ID,
        } satisfies AppRoleAssignmentBody,
      },
      binds: {},
      finding: { code: 'permission-not-consented' },
    },
  ]
}
