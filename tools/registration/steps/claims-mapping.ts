// Token issuance's claims mapping (contract §4, §7.4): a policy "Custom claims from {host}" that
// maps every configured claim from the custom claims provider, assigned to each --app service
// principal, and api.acceptMappedClaims on each --app registration that is single-tenant. Never on
// a multi-tenant one (trap 16): the admin of any tenant it is used in could then attach their own
// policy and put claims of their choice in its tokens; it needs a custom signing key instead.
// A policy of that name is register's only when its definition is what register writes (only
// custom claims provider entries, no other setting): another is left alone, with a warning, and
// neither changed nor assigned.
import { customClaimIds, isSingleTenant, printable } from '../entra-objects.js'
import type {
  ApplicationBody,
  ClaimsMappingPolicyBody,
  ReadClaimsMappingPolicy,
  ReferenceBody,
} from '../graph-types.js'
import { placeholder, type Change, type PlanContext } from '../changes.js'
import type { TargetApp } from '../read-tenant.js'

const STEP = 'claims mapping policy'
const POLICIES = '/v1.0/policies/claimsMappingPolicies'
const SIGNING_KEY =
  'give it a custom signing key instead (Entra docs, claims customization), with which its tokens carry the mapped claims'

export function claimsMappingDefinition(claimNames: readonly string[]): string {
  return JSON.stringify({
    ClaimsMappingPolicy: {
      Version: 1,
      IncludeBasicClaimSet: 'true',
      ClaimsSchema: claimNames.map((name) => ({
        Source: 'CustomClaimsProvider',
        ID: name,
        JwtClaimType: name,
      })),
    },
  })
}

/**
 * Whether a policy of register's name is register's: its one definition holds only what
 * claimsMappingDefinition writes (Version, IncludeBasicClaimSet, and CustomClaimsProvider entries,
 * whose JwtClaimType an operator may have renamed), and it is no organization default.
 */
export function isRegisterMadePolicy(policy: ReadClaimsMappingPolicy): boolean {
  if (policy.isOrganizationDefault === true || policy.definition?.length !== 1) return false
  let parsed: unknown
  try {
    parsed = JSON.parse(policy.definition[0]!)
  } catch {
    return false
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Object.keys(parsed).join() !== 'ClaimsMappingPolicy'
  )
    return false
  const inner = (parsed as { ClaimsMappingPolicy: unknown }).ClaimsMappingPolicy
  if (typeof inner !== 'object' || inner === null) return false
  if (
    Object.keys(inner).some((k) => !['Version', 'IncludeBasicClaimSet', 'ClaimsSchema'].includes(k))
  )
    return false
  const schema = (inner as { ClaimsSchema?: unknown }).ClaimsSchema ?? []
  return (
    Array.isArray(schema) &&
    schema.every(
      (e: unknown) =>
        typeof e === 'object' &&
        e !== null &&
        Object.keys(e).every((k) => ['Source', 'ID', 'JwtClaimType'].includes(k)) &&
        (e as { Source?: unknown }).Source === 'CustomClaimsProvider',
    )
  )
}

/** The policy's definition with CustomClaimsProvider entries for `names` appended. */
function withClaims(policy: ReadClaimsMappingPolicy, names: readonly string[]): string {
  let parsed: { ClaimsMappingPolicy?: { ClaimsSchema?: unknown[]; [key: string]: unknown } }
  try {
    parsed = JSON.parse(policy.definition?.[0] ?? '{}') as typeof parsed
  } catch {
    parsed = {}
  }
  const inner = parsed.ClaimsMappingPolicy ?? { Version: 1, IncludeBasicClaimSet: 'true' }
  return JSON.stringify({
    ...parsed,
    ClaimsMappingPolicy: {
      ...inner,
      ClaimsSchema: [
        ...(Array.isArray(inner.ClaimsSchema) ? inner.ClaimsSchema : []),
        ...names.map((name) => ({ Source: 'CustomClaimsProvider', ID: name, JwtClaimType: name })),
      ],
    },
  })
}

export function planClaimsMapping(
  ctx: PlanContext,
  want: { readonly displayName: string; readonly claimNames: readonly string[] },
): Change[] {
  const { desired, tenant } = ctx
  const names = want.claimNames
  if (names.length === 0)
    return [
      {
        kind: 'unchanged',
        step: STEP,
        object: 'claimsMappingPolicy',
        detail: 'EXTENSION_CONFIG configures no claims',
      },
    ]
  if (desired.targetAppIds.length === 0) return []
  const changes: Change[] = []
  const found = tenant.claimsMappingPolicies.find((p) => p.displayName === want.displayName)
  let policyId: string
  if (found === undefined) {
    policyId = placeholder('claims mapping policy')
    changes.push({
      kind: 'create',
      step: STEP,
      object: 'claimsMappingPolicy',
      detail: `"${want.displayName}" for ${names.join(', ')}`,
      request: {
        method: 'POST',
        path: POLICIES,
        body: {
          displayName: want.displayName,
          definition: [claimsMappingDefinition(names)],
          isOrganizationDefault: false,
        } satisfies ClaimsMappingPolicyBody,
      },
      binds: { [policyId]: 'id' },
      finding: { code: 'claim-not-mapped' },
    })
  } else if (!isRegisterMadePolicy(found)) {
    // Named like register's, but not what register writes: someone else's. Not changed, not
    // assigned (that would put its other mappings in --app's tokens).
    const id = printable(found.id, 100)
    return [
      {
        kind: 'leave-alone',
        step: STEP,
        object: 'claimsMappingPolicy',
        detail: `"${printable(want.displayName)}" (${id}) was not made by register; left as it is`,
        warning: `the claims mapping policy ${id} is named "${printable(want.displayName)}", as register names its own, but holds settings or mappings register does not write, so register neither changes it nor assigns it to --app. Rename it (or delete it, if it is an old copy) and run register again to have register make its own; or add entries { "Source": "CustomClaimsProvider", "ID": "<claim>", "JwtClaimType": "<claim>" } for ${names.join(', ')} to it, assign it to each --app service principal and set api.acceptMappedClaims yourself.`,
        finding: { code: 'claim-not-mapped' },
      },
    ]
  } else {
    policyId = found.id
    const mapped = customClaimIds(found)
    const missing = names.filter((name) => !mapped.has(name))
    changes.push(
      missing.length === 0
        ? {
            kind: 'unchanged',
            step: STEP,
            object: 'claimsMappingPolicy',
            detail: `${found.id} maps ${names.join(', ')}`,
          }
        : {
            kind: 'update',
            step: STEP,
            object: 'claimsMappingPolicy',
            detail: `${found.id}: map ${missing.join(', ')} as well`,
            fields: ['definition'],
            request: {
              method: 'PATCH',
              path: `${POLICIES}/${ctx.seg(found.id)}`,
              body: { definition: [withClaims(found, missing)] } satisfies ClaimsMappingPolicyBody,
            },
            finding: { code: 'claim-not-mapped' },
          },
    )
  }
  for (const appId of desired.targetAppIds) {
    const target = tenant.targetApps[appId]
    if (target !== undefined)
      changes.push(...planTarget(ctx, target, policyId, want.displayName, names))
  }
  return changes
}

function planTarget(
  ctx: PlanContext,
  target: TargetApp,
  policyId: string,
  policyName: string,
  names: readonly string[],
): Change[] {
  const { tenant } = ctx
  const appId = target.appId
  const step = `claims mapping for app ${appId}`
  const sp = target.servicePrincipal
  if (sp === undefined)
    return [
      {
        kind: 'conflict',
        step,
        object: 'claimsMappingPolicyAssignment',
        detail: `no service principal for app ${appId}`,
        problem: `--app ${appId}: no service principal in tenant ${tenant.organization.id}, so no listener can match its sign-ins and no policy can be assigned. Check the ID (the application (client) ID of the app users sign in to), or create it: az ad sp create --id ${appId}`,
        finding: { code: 'target-app-not-found' },
      },
    ]
  const changes: Change[] = []
  const assigned = target.claimsMappingPolicies
  if (assigned.some((p) => p.id === policyId))
    changes.push({
      kind: 'unchanged',
      step,
      object: 'claimsMappingPolicyAssignment',
      detail: `policy "${policyName}" assigned to ${sp.id}`,
    })
  else if (assigned.length > 0) {
    const mapped = new Set(assigned.flatMap((p) => [...customClaimIds(p)]))
    changes.push({
      kind: 'conflict',
      step,
      object: 'claimsMappingPolicyAssignment',
      detail: `another policy is assigned to ${sp.id}`,
      problem: `--app ${appId}: its service principal already has the claims mapping policy "${printable(assigned[0]?.displayName ?? '')}" (${assigned[0]?.id ?? ''}), and takes only one. Add entries { "Source": "CustomClaimsProvider", "ID": "<claim>", "JwtClaimType": "<claim>" } for ${names.join(', ')} to that policy, or unassign it and run register again.`,
      // Doctor: the other policy is fine as long as it maps every configured claim.
      finding: names.every((n) => mapped.has(n)) ? undefined : { code: 'claim-not-mapped' },
    })
  } else
    changes.push({
      kind: 'create',
      step,
      object: 'claimsMappingPolicyAssignment',
      detail: `assign policy "${policyName}" to ${sp.id}`,
      request: {
        method: 'POST',
        path: `/v1.0/servicePrincipals/${ctx.seg(sp.id)}/claimsMappingPolicies/$ref`,
        body: {
          '@odata.id': `${tenant.graphOrigin}${POLICIES}/${policyId}`,
        } satisfies ReferenceBody,
      },
      binds: {},
      finding: { code: 'claim-not-mapped' },
    })

  const acceptStep = `acceptMappedClaims on app ${appId}`
  const app = target.application
  if (app === undefined) {
    // A registration in another tenant makes this a multi-tenant app (contract trap 16).
    changes.push({
      kind: 'conflict',
      step: acceptStep,
      object: 'application',
      detail: 'its registration is in another tenant: acceptMappedClaims not set',
      problem: `--app ${appId}: its app registration is not in tenant ${tenant.organization.id}, so it is a multi-tenant app: acceptMappedClaims must not be set on it (the admin of any tenant it is used in could then attach their own claims mapping policy and put claims of their choice in its tokens), and without it or a custom signing key Entra fails with AADSTS50146. In its home tenant, ${SIGNING_KEY}.`,
    })
    return changes
  }
  const audience = printable(app.signInAudience ?? '(none)', 60)
  if (!isSingleTenant(app)) {
    // Never set on a multi-tenant app; one already set is reported, not unset (sign-ins may rely on it).
    changes.push(
      app.api?.acceptMappedClaims === true
        ? {
            kind: 'conflict',
            step: acceptStep,
            object: 'application',
            detail: `multi-tenant app (signInAudience ${audience}) with acceptMappedClaims true`,
            problem: `--app ${appId}: api.acceptMappedClaims is true on a multi-tenant app (signInAudience ${audience}): the admin of any tenant it is used in can attach their own claims mapping policy and put claims of their choice in its tokens. Set api.acceptMappedClaims to false (or null) and ${SIGNING_KEY}.`,
            finding: { code: 'accept-mapped-claims-multi-tenant' },
          }
        : {
            kind: 'conflict',
            step: acceptStep,
            object: 'application',
            detail: `multi-tenant app (signInAudience ${audience}): acceptMappedClaims not set`,
            problem: `--app ${appId}: a multi-tenant app (signInAudience ${audience}), so register did not set api.acceptMappedClaims: the admin of any tenant it is used in could then attach their own claims mapping policy and put claims of their choice in its tokens. Without it or a custom signing key Entra fails with AADSTS50146: ${SIGNING_KEY}.`,
            finding: { code: 'accept-mapped-claims-off' },
          },
    )
    return changes
  }
  if (app.api?.acceptMappedClaims === true)
    changes.push({
      kind: 'unchanged',
      step: acceptStep,
      object: 'application',
      detail: 'already true',
    })
  else
    changes.push({
      kind: 'update',
      step: acceptStep,
      object: 'application',
      detail: 'set api.acceptMappedClaims to true',
      fields: ['api'],
      request: {
        method: 'PATCH',
        path: `/v1.0/applications/${ctx.seg(app.id)}`,
        // The whole api object goes back, so nothing else in it is reset.
        body: { api: { ...(app.api ?? {}), acceptMappedClaims: true } } satisfies ApplicationBody,
      },
      finding: { code: 'accept-mapped-claims-off' },
    })
  return changes
}
