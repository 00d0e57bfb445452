// One authentication event listener per extension (contract §7.3), for the --app apps: apps are
// added, never removed, and a listener for all apps (a user flow's) is left as it is. An app that
// another extension's listener already binds to the same event is not bound a second time (two
// extensions would compete for its sign-ins): that is a conflict, said and not done.
import type { DesiredEvent } from '../desired.js'
import { FALLBACK_TO_MICROSOFT, listenerAppIds, lower, printable } from '../entra-objects.js'
import type { HandlerBody, ListenerBody, ReadListener } from '../graph-types.js'
import { isPlaceholder, type Change, type PlanContext } from '../changes.js'

const PATH = 'identity/authenticationEventListeners'

const forAll = (l: ReadListener) => l.conditions?.applications?.includeAllApplications === true

export function planListener(
  ctx: PlanContext,
  event: DesiredEvent,
  extensionId: string,
  migrationPropertyId: string | undefined,
): Change[] {
  const { desired: want, tenant } = ctx
  const step = `listener ${event.route}`
  const needs = isPlaceholder(extensionId) ? [extensionId] : []
  const ofType = tenant.listeners.filter((l) => l['@odata.type'] === event.listenerType)
  const found = ofType.find((l) => lower(l.handler?.customExtension?.id) === lower(extensionId))
  if (want.targetAppIds.length === 0) {
    if (found !== undefined)
      return [
        {
          kind: 'unchanged',
          step,
          object: 'authenticationEventListener',
          detail: `${found.id} includes ${forAll(found) ? 'all apps' : listenerAppIds(found).join(', ') || 'no app'}`,
        },
      ]
    return [
      {
        kind: 'leave-alone',
        step,
        object: 'authenticationEventListener',
        detail: `no --app given: attach the ${event.route} extension to a user flow in the Entra admin center (External ID), or rerun with --app`,
        warning: `no listener calls the ${event.route} extension: attach it to a user flow in the Entra admin center (External ID), or run register again with --app <client app id>.`,
        finding: {
          code: 'listener-missing',
          severity: event.listenerNeedsApps ? 'error' : 'warning',
        },
        needs,
      },
    ]
  }

  const changes: Change[] = []
  // An app already bound to this event through another extension's listener: a second listener
  // would make two extensions compete for its sign-ins. Say so, bind nothing.
  const wanted = want.targetAppIds.filter((appId) => {
    const other = ofType.find(
      (l) => l !== found && (forAll(l) || listenerAppIds(l).includes(lower(appId))),
    )
    if (other === undefined) return true
    // Another listener's IDs are Graph's text: printable only.
    const otherId = printable(other.id ?? '', 100)
    const otherExtension = printable(other.handler?.customExtension?.id ?? '(none)', 100)
    changes.push({
      kind: 'conflict',
      step,
      object: 'authenticationEventListener',
      detail: `app ${appId} is bound by listener ${otherId}`,
      problem: `--app ${appId}: listener ${otherId} already binds ${event.route} for it to extension ${otherExtension}; register did not add a second one. Remove the app from that listener (or delete it) and run register again.`,
      needs,
    })
    return false
  })
  const handler = (configuration: ReadListener['handler']): HandlerBody => ({
    '@odata.type': event.handlerType,
    customExtension: { id: extensionId },
    ...(event.fallbackToMicrosoft
      ? {
          // Other per-listener settings (a timeout override) stay as they are.
          configuration: {
            ...((configuration?.configuration ?? {}) as object),
            behaviorOnError: FALLBACK_TO_MICROSOFT,
          },
        }
      : {}),
    ...(migrationPropertyId === undefined ? {} : { migrationPropertyId }),
  })

  if (found === undefined) {
    if (wanted.length === 0) return changes
    changes.push({
      kind: 'create',
      step,
      object: 'authenticationEventListener',
      detail: `${event.listenerType} for app(s) ${wanted.join(', ')}`,
      request: {
        method: 'POST',
        path: `/${event.version}/${PATH}`,
        // No priority and no includeAllApplications: v1.0's authenticationEventListener and
        // authenticationConditionsApplications have neither (only beta does, where priority
        // defaults to 500 and includeAllApplications to false, what is wanted here).
        body: {
          '@odata.type': event.listenerType,
          conditions: { applications: { includeApplications: wanted.map((appId) => ({ appId })) } },
          handler: handler(undefined),
        } satisfies ListenerBody,
      },
      binds: {},
      finding: {
        code: 'listener-missing',
        severity: event.listenerNeedsApps ? 'error' : 'warning',
      },
      needs,
    })
    return changes
  }

  const patch: Partial<ListenerBody> = {}
  const all = forAll(found)
  const included = listenerAppIds(found)
  const missing = all ? [] : wanted.filter((appId) => !included.includes(lower(appId)))
  if (missing.length > 0)
    patch.conditions = {
      applications: {
        includeApplications: [
          ...(found.conditions?.applications?.includeApplications ?? []).map((a) => ({
            ...(a.appId === undefined ? {} : { appId: a.appId }),
          })),
          ...missing.map((appId) => ({ appId })),
        ],
      },
    }
  const fallbackMissing =
    event.fallbackToMicrosoft &&
    found.handler?.configuration?.behaviorOnError?.['@odata.type'] !==
      FALLBACK_TO_MICROSOFT['@odata.type']
  const migrationDiffers =
    migrationPropertyId !== undefined && found.handler?.migrationPropertyId !== migrationPropertyId
  if (fallbackMissing || migrationDiffers) patch.handler = handler(found.handler)
  const fields = Object.keys(patch)
  if (fields.length === 0) {
    changes.push({
      kind: 'unchanged',
      step,
      object: 'authenticationEventListener',
      detail: `${found.id} includes ${all ? 'all apps' : want.targetAppIds.join(', ')}`,
    })
    return changes
  }
  const what = [
    ...(missing.length > 0 ? [`add app(s) ${missing.join(', ')}`] : []),
    ...(fallbackMissing ? ['set the fallback to Microsoft'] : []),
    ...(migrationDiffers ? [`set migrationPropertyId ${migrationPropertyId ?? ''}`] : []),
  ]
  changes.push({
    kind: 'update',
    step,
    object: 'authenticationEventListener',
    detail: `${found.id}: ${what.join(', ')}`,
    fields,
    request: {
      method: 'PATCH',
      path: `/${event.version}/${PATH}/${ctx.seg(found.id)}`,
      body: { '@odata.type': event.listenerType, ...patch } satisfies ListenerBody,
    },
    finding: { code: missing.length > 0 ? 'listener-app-missing' : 'listener-handler-differs' },
  })
  return changes
}
