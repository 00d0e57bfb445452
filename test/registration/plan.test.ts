// plan() and apply() against the Graph stand-in: the plan of an empty tenant is typed changes in
// order (creates naming the placeholders later writes use), a dry run is that plan and no write,
// and, for every event the tools register, planning again after an apply plans nothing.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { EventRoute } from '../../src/events/routes.js'
import { needsCertificate, REGISTRABLE } from '../../tools/registration/desired.js'
import { createGraphClient, type GraphClient } from '../../tools/graph/client.js'
import { isWrite } from '../../tools/registration/changes.js'
import { isEmpty } from '../../tools/registration/plan.js'
import { B2C_EXTENSIONS_APP_NAME } from '../../tools/registration/read-tenant.js'
import {
  planRegistration,
  register,
  type RegisterInput,
} from '../../tools/registration/register.js'
import { createGraphTokenSource } from '../../src/sources/graph-credential.js'
import {
  emptyEntraState,
  startEntraGraphServer,
  type EntraGraphStandIn,
  type EntraGraphState,
} from '../support/entra-graph-server.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'
import { encryptionCertificate } from './certificates.js'

const BASE = 'https://contoso-ext.azurewebsites.net'
const CLIENT = 'c1c1c1c1-0000-4000-8000-000000000001'

let tokens: TokenEndpointStandIn
let stand: EntraGraphStandIn
let graph: GraphClient

/** An External ID tenant with the customer's app and the b2c-extensions-app every such tenant has. */
function customerTenant(): EntraGraphState {
  const state = emptyEntraState(tokens.tenantId, 'CIAM')
  const b2c = randomUUID()
  state.applications.push(
    {
      id: randomUUID(),
      appId: CLIENT,
      displayName: 'Client',
      identifierUris: [],
      api: { requestedAccessTokenVersion: 2, acceptMappedClaims: null },
      requiredResourceAccess: [],
    },
    {
      id: randomUUID(),
      appId: b2c,
      displayName: B2C_EXTENSIONS_APP_NAME,
      identifierUris: [],
      api: {},
      requiredResourceAccess: [],
    },
  )
  state.servicePrincipals.push({
    id: randomUUID(),
    appId: CLIENT,
    displayName: 'Client',
    accountEnabled: true,
  })
  return state
}

async function input(events: readonly EventRoute[], change: Partial<RegisterInput> = {}) {
  const certificate = events.some(needsCertificate)
    ? (await encryptionCertificate()).certificate
    : undefined
  return {
    baseUrl: BASE,
    events,
    targetAppIds: [CLIENT],
    displayName: 'Contoso',
    timeoutMs: 1000,
    maximumRetries: 1,
    claimNames: ['apiVersion', 'correlationId'],
    claimsMapping: true,
    otpFallback: true,
    certificate,
    dryRun: false,
    ...change,
  } satisfies RegisterInput
}

beforeAll(async () => {
  tokens = await startTokenEndpoint()
  stand = await startEntraGraphServer({ tokens, state: emptyEntraState(tokens.tenantId) })
  const source = createGraphTokenSource(
    {
      kind: 'clientSecret',
      tenantId: tokens.tenantId,
      clientId: tokens.clientId,
      secret: tokens.clientSecret,
      authorityHost: tokens.authorityHost,
    },
    stand.origin,
  )
  graph = createGraphClient({
    baseUrl: stand.origin,
    getToken: () => source.getToken(AbortSignal.timeout(10_000), 10_000),
  })
})
afterAll(async () => {
  await stand?.close()
  await tokens?.close()
})
beforeEach(() => {
  stand.state = customerTenant()
})

describe('plan', () => {
  it('plans an empty tenant as typed creates, in order, each later write naming what it needs', async () => {
    const mark = stand.requests.length
    const thePlan = await planRegistration(graph, await input(['onTokenIssuanceStart']))
    expect(stand.requests.slice(mark).filter((r) => r.method !== 'GET')).toEqual([])
    expect(thePlan.changes.map((c) => `${c.kind} ${c.step}`)).toEqual([
      'create authentication events service principal',
      'create extension app registration',
      'update extension app registration',
      'create extension service principal',
      'create admin consent for CustomAuthenticationExtension.Receive.Payload',
      'create extension onTokenIssuanceStart',
      'create listener onTokenIssuanceStart',
      'create claims mapping policy',
      `create claims mapping for app ${CLIENT}`,
      `update acceptMappedClaims on app ${CLIENT}`,
    ])
    const app = thePlan.changes[1]
    expect(app?.kind === 'create' && app.binds).toEqual({
      '<new app>': 'id',
      '<new app appId>': 'appId',
    })
    const listener = thePlan.changes[6]
    expect(listener?.needs).toEqual(['<new extension onTokenIssuanceStart>'])
    expect(thePlan.extensionIds).toEqual({
      onTokenIssuanceStart: '<new extension onTokenIssuanceStart>',
    })
    expect(isEmpty(thePlan)).toBe(false)
  })

  it.each(REGISTRABLE.map((route) => [route]))(
    'plans nothing after register applied it: %s',
    async (route) => {
      const first = await register(graph, await input([route]))
      expect(first.problems).toEqual([])
      expect(first.changes.filter((c) => c.action === 'created').length).toBeGreaterThan(0)
      const again = await planRegistration(graph, await input([route]))
      expect(again.changes.filter((c) => isWrite(c) || c.kind === 'conflict')).toEqual([])
      expect(isEmpty(again)).toBe(true)
    },
  )

  it('plans nothing after registering every event at once', async () => {
    await register(graph, await input(REGISTRABLE))
    expect(isEmpty(await planRegistration(graph, await input(REGISTRABLE)))).toBe(true)
  })
})
