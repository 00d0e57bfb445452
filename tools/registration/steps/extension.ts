// One custom authentication extension per event (contract §7.2), found by type and target URL
// ({url}/api/{event}, however it was typed: case, a trailing slash, a function key), with
// resourceId, Entra's timeout and retries and the event's own properties. What differs is set
// property by property; the display name, the description and claims added by hand are the
// operator's: claims are only ever added.
import type { DesiredEvent } from '../desired.js'
import { FALLBACK_TO_MICROSOFT, printable, routeOfTargetUrl } from '../entra-objects.js'
import type { ExtensionBody, ReadExtension } from '../graph-types.js'
import { placeholder, type Change, type PlanContext } from '../changes.js'

const PATH = 'identity/customAuthenticationExtensions'

export function planExtension(
  ctx: PlanContext,
  event: DesiredEvent,
  resourceId: string,
): { id: string; changes: Change[] } {
  const { desired: want, tenant } = ctx
  const step = `extension ${event.route}`
  const changes: Change[] = []
  const atRoute = tenant.extensions.filter(
    (e) => routeOfTargetUrl(e.endpointConfiguration?.targetUrl, want.base) === event.route,
  )
  for (const other of atRoute.filter((e) => e['@odata.type'] !== event.extensionType))
    changes.push({
      kind: 'conflict',
      step,
      object: 'customAuthenticationExtension',
      detail: `${other.id} is a ${printable(other['@odata.type'] ?? '(no type)')}`,
      problem: `extension ${other.id} points at ${event.targetUrl} but is a ${printable(other['@odata.type'] ?? '(no type)')}; Entra sends it the wrong event. Delete it (DELETE /v1.0/${PATH}/${other.id}).`,
      finding: { code: 'extension-type-mismatch' },
    })
  const ours = atRoute.filter((e) => e['@odata.type'] === event.extensionType)
  if (ours.length > 1)
    changes.push({
      kind: 'conflict',
      step,
      object: 'customAuthenticationExtension',
      detail: `${ours.length} extensions of type ${event.extensionType}`,
      problem: `${ours.length} extensions of type ${event.extensionType} point at ${event.targetUrl} (${ours.map((e) => e.id).join(', ')}); register keeps ${ours[0]?.id ?? ''}. Delete the others and their listeners.`,
      finding: { code: 'extension-duplicate' },
    })
  const common = {
    endpointConfiguration: {
      '@odata.type': '#microsoft.graph.httpRequestEndpoint',
      targetUrl: event.targetUrl,
    },
    authenticationConfiguration: {
      '@odata.type': '#microsoft.graph.azureAdTokenAuthentication',
      resourceId,
    },
  } as const satisfies Partial<ExtensionBody>
  const client =
    want.client === undefined
      ? undefined
      : {
          timeoutInMilliseconds: want.client.timeoutMs,
          maximumRetries: want.client.maximumRetries,
        }
  const found = ours[0]
  if (found === undefined) {
    const id = placeholder(`extension ${event.route}`)
    changes.push({
      kind: 'create',
      step,
      object: 'customAuthenticationExtension',
      detail: `${event.extensionType} → ${event.targetUrl}`,
      request: {
        method: 'POST',
        path: `/${event.version}/${PATH}`,
        body: {
          '@odata.type': event.extensionType,
          displayName: event.displayName,
          description: event.description,
          ...common,
          ...(client === undefined ? {} : { clientConfiguration: client }),
          ...(event.tokenClaims !== undefined
            ? {
                claimsForTokenConfiguration: event.tokenClaims.map((name) => ({
                  claimIdInApiResponse: name,
                })),
              }
            : {}),
          ...(event.fallbackToMicrosoft ? { behaviorOnError: FALLBACK_TO_MICROSOFT } : {}),
        } satisfies ExtensionBody,
      },
      binds: { [id]: 'id' },
      finding: { code: 'extension-missing' },
    })
    return { id, changes }
  }
  const patch = differences(found, event, common, client)
  const fields = Object.keys(patch)
  if (fields.length === 0)
    changes.push({
      kind: 'unchanged',
      step,
      object: 'customAuthenticationExtension',
      detail: `${found.id} → ${event.targetUrl}`,
    })
  else
    changes.push({
      kind: 'update',
      step,
      object: 'customAuthenticationExtension',
      detail: `${found.id}: set ${fields.join(', ')}`,
      fields,
      request: {
        method: 'PATCH',
        path: `/${event.version}/${PATH}/${ctx.seg(found.id)}`,
        // Graph needs the derived type to bind the PATCH body to it.
        body: { '@odata.type': event.extensionType, ...patch } satisfies ExtensionBody,
      },
      finding: {
        code:
          patch.claimsForTokenConfiguration !== undefined
            ? 'claim-not-registered'
            : 'extension-settings-differ',
      },
    })
  return { id: found.id, changes }
}

function differences(
  found: ReadExtension,
  event: DesiredEvent,
  common: Pick<ExtensionBody, 'endpointConfiguration' | 'authenticationConfiguration'>,
  client: { timeoutInMilliseconds: number; maximumRetries: number } | undefined,
): Partial<ExtensionBody> {
  const patch: Partial<ExtensionBody> = {}
  if (found.endpointConfiguration?.targetUrl !== event.targetUrl)
    patch.endpointConfiguration = common.endpointConfiguration
  if (
    found.authenticationConfiguration?.resourceId !== common.authenticationConfiguration?.resourceId
  )
    patch.authenticationConfiguration = common.authenticationConfiguration
  if (
    client !== undefined &&
    (found.clientConfiguration?.timeoutInMilliseconds !== client.timeoutInMilliseconds ||
      found.clientConfiguration?.maximumRetries !== client.maximumRetries)
  )
    patch.clientConfiguration = client
  const registered = (found.claimsForTokenConfiguration ?? []).map(
    (c) => c.claimIdInApiResponse ?? '',
  )
  const missing = (event.tokenClaims ?? []).filter((name) => !registered.includes(name))
  if (missing.length > 0)
    patch.claimsForTokenConfiguration = [
      ...(found.claimsForTokenConfiguration ?? []),
      ...missing.map((name) => ({ claimIdInApiResponse: name })),
    ]
  if (
    event.fallbackToMicrosoft &&
    found.behaviorOnError?.['@odata.type'] !== FALLBACK_TO_MICROSOFT['@odata.type']
  )
    patch.behaviorOnError = FALLBACK_TO_MICROSOFT
  return patch
}
