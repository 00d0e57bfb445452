// The extension's app registration (contract §7.1): identifier URI api://{host}/{appId}, v2
// tokens, and the Graph permission CustomAuthenticationExtension.Receive.Payload among its
// required permissions. Found by --extension-app, else by the uniqueName register gives it, else
// created by Graph's upsert on that key (PATCH /applications(uniqueName='…') with Prefer:
// create-if-missing). The token version is set only on an app register made (its uniqueName says
// so): switching someone else's app to v2 would break whatever validates its v1 tokens.
import {
  GRAPH_APP_ID,
  isRegisterMadeApp,
  lower,
  RECEIVE_PAYLOAD_ROLE_ID,
  v1Issuer,
} from '../entra-objects.js'
import { keySegment } from '../../graph/client.js'
import type { ApplicationBody, ReadApplication } from '../graph-types.js'
import { placeholder, type Change, type PlanContext } from '../changes.js'

const STEP = 'extension app registration'

export interface AppPlan {
  readonly changes: readonly Change[]
  /** Object ID and client ID (placeholders when it is to be created). */
  readonly id: string
  readonly appId: string
  readonly resourceId: string
  readonly tokenVersion: 1 | 2
  /** As read (undefined: to be created). */
  readonly app: ReadApplication | undefined
}

const receivePayload = () => ({
  resourceAppId: GRAPH_APP_ID,
  resourceAccess: [{ id: RECEIVE_PAYLOAD_ROLE_ID, type: 'Role' }],
})

export function planExtensionApp(ctx: PlanContext): AppPlan {
  const { desired: want, tenant } = ctx
  const app = tenant.extensionApp
  if (app === undefined) {
    const id = placeholder('app')
    const appId = placeholder('app appId')
    const resourceId = `api://${want.host}/${appId}`
    const byName = `/v1.0/applications(uniqueName='${keySegment(want.extensionApp.uniqueName)}')`
    return {
      id,
      appId,
      resourceId,
      tokenVersion: 2,
      app: undefined,
      changes: [
        {
          kind: 'create',
          step: STEP,
          object: 'application',
          detail: `app registration "${want.displayName}" (uniqueName ${want.extensionApp.uniqueName})`,
          request: {
            method: 'PATCH',
            path: byName,
            headers: { Prefer: 'create-if-missing' },
            body: {
              displayName: want.displayName,
              signInAudience: 'AzureADMyOrg',
              api: { requestedAccessTokenVersion: 2 },
              requiredResourceAccess: [receivePayload()],
            } satisfies ApplicationBody,
          },
          binds: { [id]: 'id', [appId]: 'appId' },
          finding: { code: 'app-not-found' },
        },
        {
          kind: 'update',
          step: STEP,
          object: 'application',
          detail: `app ${appId}: set identifierUris`,
          fields: ['identifierUris'],
          request: {
            method: 'PATCH',
            path: `/v1.0/applications/${id}`,
            body: { identifierUris: [resourceId] } satisfies ApplicationBody,
          },
        },
      ],
    }
  }

  const resourceId = `api://${want.host}/${app.appId}`
  const changes: Change[] = []
  const patch: ApplicationBody = {}
  const uris = app.identifierUris ?? []
  if (!uris.some((u) => lower(u) === lower(resourceId)))
    patch.identifierUris = [...uris, resourceId]
  let tokenVersion: 1 | 2 = 2
  if (app.api?.requestedAccessTokenVersion !== 2) {
    if (isRegisterMadeApp(app)) patch.api = { ...(app.api ?? {}), requestedAccessTokenVersion: 2 }
    else {
      tokenVersion = 1
      changes.push({
        kind: 'leave-alone',
        step: STEP,
        object: 'application',
        detail: `app ${app.appId} gets v1 tokens (requestedAccessTokenVersion ${String(app.api?.requestedAccessTokenVersion ?? null)}); left as it is`,
        warning: `app ${app.appId} (--extension-app) gets v1 tokens, and register did not create it, so it did not switch it to v2: other software may validate its v1 tokens. The settings below accept v1 tokens: ENTRA_AUDIENCE lists its identifier URI ${resourceId}, ENTRA_ISSUER adds ${v1Issuer(tenant.organization.id)}. To use v2 tokens instead, set api.requestedAccessTokenVersion to 2 on the app once nothing else relies on its v1 tokens, and run register again.`,
      })
    }
  }
  const access = app.requiredResourceAccess ?? []
  const graphAccess = access.find((r) => lower(r.resourceAppId) === GRAPH_APP_ID)
  const hasRole = (graphAccess?.resourceAccess ?? []).some(
    (a) => lower(a.id) === RECEIVE_PAYLOAD_ROLE_ID && a.type === 'Role',
  )
  if (!hasRole)
    patch.requiredResourceAccess = [
      ...access.filter((r) => r !== graphAccess),
      {
        resourceAppId: GRAPH_APP_ID,
        resourceAccess: [
          ...(graphAccess?.resourceAccess ?? []),
          ...receivePayload().resourceAccess,
        ],
      },
    ]
  const fields = Object.keys(patch)
  if (fields.length === 0)
    changes.unshift({
      kind: 'unchanged',
      step: STEP,
      object: 'application',
      detail: `app ${app.appId}: identifier URI ${resourceId}, v${tokenVersion} tokens, permission listed`,
    })
  else
    changes.unshift({
      kind: 'update',
      step: STEP,
      object: 'application',
      detail: `app ${app.appId}: set ${fields.join(', ')}`,
      fields,
      request: { method: 'PATCH', path: `/v1.0/applications/${ctx.seg(app.id)}`, body: patch },
      // What doctor says of it: the identifier URI first, as Entra fails on it (1003014). The
      // token version alone is doctor's token-version-v1 check, against ENTRA_ISSUER.
      finding:
        patch.identifierUris !== undefined
          ? { code: 'identifier-uri-missing' }
          : patch.requiredResourceAccess !== undefined
            ? { code: 'permission-not-requested' }
            : undefined,
    })
  return { id: app.id, appId: app.appId, resourceId, tokenVersion, app, changes }
}
