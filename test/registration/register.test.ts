// `npm run register` against a stateful HTTPS Graph stand-in (test/support/entra-graph-server.ts)
// signed in through the token-endpoint stand-in with a real @azure/identity credential: what the
// first run creates, that a second run writes nothing, that drift is repaired property by
// property, what a dry run plans, what cannot be done, Graph's errors, and that `doctor` passes
// a tenant `register` made.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadEndpointSettings } from '../../src/config.js'
import { diagnose, doctorDesired, type EndpointView } from '../../tools/registration/diagnose.js'
import {
  AUTH_EVENTS_APP_ID,
  customClaimIds,
  FALLBACK_TO_MICROSOFT,
  GRAPH_APP_ID,
  RECEIVE_PAYLOAD_ROLE_ID,
  ROUTE_TYPES,
  type GraphApplication,
} from '../../tools/registration/entra-objects.js'
import type { Tenant } from '../../tools/registration/read-tenant.js'
import { CHECKED_BY_DEFAULT } from '../../tools/registration/desired.js'
import { createGraphClient, type GraphClient } from '../../tools/graph/client.js'
import { GraphError } from '../../tools/graph/graph-error.js'
import { readTenant } from '../../tools/registration/read-tenant.js'
import {
  extensionAppUniqueName,
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

/** The four events register handles without more options (onPasswordSubmit needs a certificate). */
const ROUTES = CHECKED_BY_DEFAULT
const HOST = 'contoso-ext.azurewebsites.net'
const BASE = `https://${HOST}`
const CLIENT = 'c1c1c1c1-0000-4000-8000-000000000001'
const CLIENT_2 = 'c2c2c2c2-0000-4000-8000-000000000002'
const CLAIMS = ['apiVersion', 'appRoles', 'correlationId']

let tokens: TokenEndpointStandIn
let stand: EntraGraphStandIn
let graph: GraphClient

/** A tenant with the customer's client app(s) registered, and nothing of ours. */
function customerTenant(tenantType: 'AAD' | 'CIAM' = 'AAD'): EntraGraphState {
  const state = emptyEntraState(tokens.tenantId, tenantType)
  for (const appId of [CLIENT, CLIENT_2]) {
    state.applications.push({
      id: randomUUID(),
      appId,
      displayName: `Client ${appId.slice(0, 2)}`,
      identifierUris: [],
      api: { requestedAccessTokenVersion: 2, acceptMappedClaims: null, oauth2PermissionScopes: [] },
      requiredResourceAccess: [],
    })
    state.servicePrincipals.push({
      id: randomUUID(),
      appId,
      displayName: `Client ${appId.slice(0, 2)}`,
      accountEnabled: true,
    })
  }
  return state
}

const input = (change: Partial<RegisterInput> = {}): RegisterInput => ({
  baseUrl: BASE,
  events: ['onTokenIssuanceStart'],
  targetAppIds: [CLIENT],
  displayName: 'Contoso claims',
  timeoutMs: 1000,
  maximumRetries: 1,
  claimNames: CLAIMS,
  claimsMapping: true,
  otpFallback: false,
  dryRun: false,
  ...change,
})

const spOf = (appId: string) => stand.state.servicePrincipals.find((s) => s.appId === appId)
const appOf = (appId: string) =>
  stand.state.applications.find((a) => a.appId === appId) as GraphApplication | undefined
/** Writes since `mark`, without the validation call (a POST that changes nothing). */
const writesSince = (mark: number) =>
  stand.requests
    .slice(mark)
    .filter((r) => r.method !== 'GET' && !r.path.endsWith('/validateAuthenticationConfiguration'))

/** The tenant as doctor reads it for --app `appId`. */
const tenantFor = (appId: string, view: Partial<EndpointView> = {}): Promise<Tenant> =>
  readTenant(
    graph,
    doctorDesired({
      baseUrl: BASE,
      appId,
      tenantId: tokens.tenantId,
      audiences: [],
      issuers: [],
      requestBudgetMs: 750,
      claimNames: CLAIMS,
      ...view,
    }),
    { appFromExtensions: true },
  )

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
  stand.pageSize = 100
  stand.denied.clear()
})

describe('register, first run', () => {
  it('creates the whole registration of contract §7 and prints the matching settings', async () => {
    const result = await register(graph, input())
    const s = stand.state
    const app = s.applications.find((a) => a.uniqueName === extensionAppUniqueName(HOST)) as
      GraphApplication | undefined
    expect(app).toBeDefined()
    const appId = app!.appId
    const resourceId = `api://${HOST}/${appId}`
    expect(app!.identifierUris).toEqual([resourceId])
    expect(app!.api?.requestedAccessTokenVersion).toBe(2)
    expect(app!.requiredResourceAccess).toEqual([
      {
        resourceAppId: GRAPH_APP_ID,
        resourceAccess: [{ id: RECEIVE_PAYLOAD_ROLE_ID, type: 'Role' }],
      },
    ])
    // The caller's service principal (trap 12) and ours, with consent to Graph's app role.
    expect(spOf(AUTH_EVENTS_APP_ID)).toBeDefined()
    const sp = spOf(appId)!
    expect(s.appRoleAssignments).toEqual([
      expect.objectContaining({
        principalId: sp.id,
        resourceId: spOf(GRAPH_APP_ID)!.id,
        appRoleId: RECEIVE_PAYLOAD_ROLE_ID,
      }),
    ])
    // The extension, its listener for the client app, the policy and acceptMappedClaims.
    expect(s.extensions).toEqual([
      expect.objectContaining({
        '@odata.type': ROUTE_TYPES.onTokenIssuanceStart.extension,
        endpointConfiguration: expect.objectContaining({
          targetUrl: `${BASE}/api/onTokenIssuanceStart`,
        }),
        authenticationConfiguration: expect.objectContaining({ resourceId }),
        clientConfiguration: { timeoutInMilliseconds: 1000, maximumRetries: 1 },
        claimsForTokenConfiguration: CLAIMS.map((c) => ({ claimIdInApiResponse: c })),
      }),
    ])
    expect(s.listeners).toEqual([
      expect.objectContaining({
        '@odata.type': ROUTE_TYPES.onTokenIssuanceStart.listener,
        conditions: { applications: { includeApplications: [{ appId: CLIENT }] } },
        handler: expect.objectContaining({ customExtension: { id: s.extensions[0]!.id } }),
      }),
    ])
    expect(s.claimsMappingPolicies).toHaveLength(1)
    const policy = s.claimsMappingPolicies[0]!
    expect([
      ...customClaimIds({ id: policy.id, definition: policy.definition as string[] }),
    ]).toEqual(CLAIMS)
    expect(s.policyAssignments).toEqual([
      { servicePrincipalId: spOf(CLIENT)!.id, policyId: policy.id },
    ])
    expect(appOf(CLIENT)!.api).toMatchObject({
      acceptMappedClaims: true,
      oauth2PermissionScopes: [],
    })
    expect(appOf(CLIENT_2)!.api?.acceptMappedClaims).toBeNull()

    expect(result).toMatchObject({
      tenantId: tokens.tenantId,
      extensionAppId: appId,
      resourceId,
      extensionIds: { onTokenIssuanceStart: s.extensions[0]!.id },
      problems: [],
      validation: [],
      settings: {
        ENTRA_TENANT_ID: tokens.tenantId,
        ENTRA_AUDIENCE: appId,
        // The endpoint's default issuers (finding 13).
        ENTRA_ISSUER: `https://login.microsoftonline.com/${tokens.tenantId}/v2.0,https://${tokens.tenantId}.ciamlogin.com/${tokens.tenantId}/v2.0`,
      },
    })
    expect(result.changes.filter((c) => c.action === 'created').map((c) => c.step)).toEqual([
      'authentication events service principal',
      'extension app registration',
      'extension service principal',
      'admin consent for CustomAuthenticationExtension.Receive.Payload',
      'extension onTokenIssuanceStart',
      'listener onTokenIssuanceStart',
      'claims mapping policy',
      `claims mapping for app ${CLIENT}`,
    ])
  })

  it('changes nothing the second time, and doctor then finds no error', async () => {
    const first = await register(graph, input())
    const mark = stand.requests.length
    const second = await register(graph, input())
    expect(writesSince(mark)).toEqual([])
    expect(second.changes.every((c) => c.action === 'unchanged')).toBe(true)
    expect(second.settings).toEqual(first.settings)

    const findings = diagnose(await tenantFor(CLIENT), {
      baseUrl: BASE,
      appId: CLIENT,
      tenantId: tokens.tenantId,
      audiences: [first.settings.ENTRA_AUDIENCE],
      issuers: first.settings.ENTRA_ISSUER.split(','),
      requestBudgetMs: 750,
      claimNames: CLAIMS,
    })
    expect(findings.filter((f) => f.severity === 'error')).toEqual([])
    expect(findings.filter((f) => f.severity === 'warning').map((f) => f.code)).toEqual([
      // Only token issuance was registered; the other routes are served but unused.
      'extension-missing',
      'extension-missing',
      'extension-missing',
    ])
  })

  it('registers all four events in an External ID tenant, with the OTP fallback on both objects', async () => {
    stand.state = customerTenant('CIAM')
    const result = await register(graph, input({ events: ROUTES, otpFallback: true }))
    expect(result.settings.ENTRA_ISSUER.split(',')).toContain(
      `https://${tokens.tenantId}.ciamlogin.com/${tokens.tenantId}/v2.0`,
    )
    const s = stand.state
    expect(s.extensions.map((e) => e['@odata.type']).sort()).toEqual(
      ROUTES.map((r) => ROUTE_TYPES[r].extension).sort(),
    )
    expect(s.listeners.map((l) => l['@odata.type']).sort()).toEqual(
      ROUTES.map((r) => ROUTE_TYPES[r].listener).sort(),
    )
    const otp = s.extensions.find((e) => e['@odata.type'] === ROUTE_TYPES.onOtpSend.extension)!
    expect(otp.behaviorOnError).toEqual(FALLBACK_TO_MICROSOFT)
    expect(otp.claimsForTokenConfiguration).toBeUndefined()
    const otpListener = s.listeners.find(
      (l) => l['@odata.type'] === ROUTE_TYPES.onOtpSend.listener,
    )!
    expect(otpListener.handler).toMatchObject({
      customExtension: { id: otp.id },
      configuration: { behaviorOnError: FALLBACK_TO_MICROSOFT },
    })
    const mark = stand.requests.length
    await register(graph, input({ events: ROUTES, otpFallback: true }))
    expect(writesSince(mark)).toEqual([])
  })

  it('finding 13: recommends the issuers the endpoint accepts by default, in an External ID tenant too', async () => {
    for (const tenantType of ['CIAM', 'AAD'] as const) {
      stand.state = customerTenant(tenantType)
      const result = await register(graph, input())
      // What the endpoint makes of the printed setting is what it makes of none at all.
      const env = { ENTRA_TENANT_ID: result.settings.ENTRA_TENANT_ID, ENTRA_AUDIENCE: 'x' }
      const byDefault = loadEndpointSettings(env).issuers
      expect(byDefault).toEqual([
        `https://login.microsoftonline.com/${tokens.tenantId}/v2.0`,
        `https://${tokens.tenantId}.ciamlogin.com/${tokens.tenantId}/v2.0`,
      ])
      expect(
        loadEndpointSettings({ ...env, ENTRA_ISSUER: result.settings.ENTRA_ISSUER }).issuers,
        tenantType,
      ).toEqual(byDefault)

      // doctor agrees: the printed list passes, and its fix for a wrong one is that list.
      const tenant = await tenantFor(CLIENT)
      const view = {
        baseUrl: BASE,
        appId: CLIENT,
        tenantId: tokens.tenantId,
        audiences: [result.settings.ENTRA_AUDIENCE],
        issuers: byDefault,
        requestBudgetMs: 750,
        claimNames: CLAIMS,
      }
      expect(diagnose(tenant, view).filter((f) => f.severity === 'error')).toEqual([])
      const wrong = tenantType === 'CIAM' ? byDefault[0]! : byDefault[1]!
      const mismatch = diagnose(tenant, { ...view, issuers: [wrong] }).find(
        (f) => f.code === 'issuer-mismatch',
      )
      expect(mismatch?.fix).toContain(`Set ENTRA_ISSUER=${result.settings.ENTRA_ISSUER} `)
    }
  })

  it('finding 12: leaves an --extension-app it did not create on v1 tokens, and says what accepts them', async () => {
    const shared = {
      id: randomUUID(),
      appId: randomUUID(),
      displayName: 'An API others call too',
      identifierUris: [],
      api: { requestedAccessTokenVersion: null },
      requiredResourceAccess: [],
    }
    stand.state.applications.push(shared)
    const mark = stand.requests.length
    const result = await register(graph, input({ extensionAppId: shared.appId }))
    const resourceId = `api://${HOST}/${shared.appId}`
    expect(appOf(shared.appId)!.api?.requestedAccessTokenVersion).toBeNull()
    const toShared = writesSince(mark).filter((r) => r.path === `/v1.0/applications/${shared.id}`)
    expect(toShared.map((r) => Object.keys(r.body as object))).toEqual([
      ['identifierUris', 'requiredResourceAccess'],
    ])
    expect(result.problems).toEqual([])
    expect(
      result.changes.find((c) => c.step === 'extension app registration' && c.action === 'skipped')
        ?.detail,
    ).toContain(`app ${shared.appId} gets v1 tokens`)
    expect(result.notes.join('\n')).toContain('did not create')
    // v1 tokens carry the identifier URI as aud and the sts.windows.net issuer (contract §2).
    const v1Issuer = `https://sts.windows.net/${tokens.tenantId}/`
    expect(result.settings.ENTRA_AUDIENCE.split(',')).toContain(resourceId)
    expect(result.settings.ENTRA_ISSUER.split(',')).toEqual([
      `https://login.microsoftonline.com/${tokens.tenantId}/v2.0`,
      `https://${tokens.tenantId}.ciamlogin.com/${tokens.tenantId}/v2.0`,
      v1Issuer,
    ])
    const settings = loadEndpointSettings(result.settings)
    const view = {
      baseUrl: BASE,
      appId: CLIENT,
      tenantId: settings.tenantId,
      audiences: settings.audiences,
      issuers: settings.issuers,
      requestBudgetMs: 750,
      claimNames: CLAIMS,
    }
    const tenant = await tenantFor(CLIENT)
    expect(diagnose(tenant, view).filter((f) => f.severity === 'error')).toEqual([])
    // doctor, with the default issuers only: keep the app on v1, accept its tokens.
    const found = diagnose(tenant, { ...view, issuers: view.issuers.slice(0, 2) }).find(
      (f) => f.code === 'token-version-v1',
    )
    expect(found?.fix).toMatch(/^Add https:\/\/sts\.windows\.net\/[0-9a-f-]+\/ to ENTRA_ISSUER/)
    expect(found?.fix).toContain('not one npm run register created')
    expect(found?.fix).toContain(resourceId)

    // The app register made (its uniqueName says so) is put back to v2 when it drifts.
    stand.state = customerTenant()
    const made = await register(graph, input())
    const own = stand.state.applications.find((a) => a.appId === made.extensionAppId)!
    own.api = { requestedAccessTokenVersion: null }
    const again = await register(graph, input({ extensionAppId: made.extensionAppId }))
    expect(appOf(made.extensionAppId)!.api?.requestedAccessTokenVersion).toBe(2)
    expect(again.settings.ENTRA_AUDIENCE).toBe(made.extensionAppId)
  })

  it('reuses an app registration named by --extension-app, adding only what it lacks', async () => {
    const own = {
      id: randomUUID(),
      appId: randomUUID(),
      displayName: 'Made in the portal',
      identifierUris: ['api://something-else'],
      api: { requestedAccessTokenVersion: null, oauth2PermissionScopes: [{ value: 'x' }] },
      requiredResourceAccess: [
        {
          resourceAppId: GRAPH_APP_ID,
          resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }],
        },
      ],
    }
    stand.state.applications.push(own)
    const result = await register(graph, input({ extensionAppId: own.appId }))
    expect(result.extensionAppId).toBe(own.appId)
    expect(stand.state.applications.filter((a) => a.uniqueName !== undefined)).toEqual([])
    const app = appOf(own.appId)!
    expect(app.identifierUris).toEqual(['api://something-else', `api://${HOST}/${own.appId}`])
    // Not made by register, so it keeps its token version (finding 12).
    expect(app.api).toMatchObject({
      requestedAccessTokenVersion: null,
      oauth2PermissionScopes: [{ value: 'x' }],
    })
    expect(app.requiredResourceAccess?.[0]?.resourceAccess).toEqual([
      { id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' },
      { id: RECEIVE_PAYLOAD_ROLE_ID, type: 'Role' },
    ])
    await expect(register(graph, input({ extensionAppId: randomUUID() }))).rejects.toThrow(
      /--extension-app .*: no app registration/,
    )
  })
})

describe('register, what it prints after a run', () => {
  it('names what Graph made, not placeholders, in each change’s detail and request', async () => {
    const result = await register(graph, input())
    const written = result.changes.filter((c) => c.request !== undefined)
    expect(written.length).toBeGreaterThan(5)
    expect(JSON.stringify(written)).not.toContain('<new ')
    const app = appOf(result.extensionAppId)!
    expect(written.map((c) => c.request!.path)).toContain(`/v1.0/applications/${app.id}`)
    const consent = written.find((c) => c.step.startsWith('admin consent'))!
    expect(consent.request!.body).toMatchObject({ principalId: spOf(app.appId)!.id })
  })
})

describe('register repairs drift, property by property', () => {
  it('puts back the timeout, a lost app, a missing claim and the consent; leaves a disabled principal disabled', async () => {
    const first = await register(graph, input({ targetAppIds: [CLIENT] }))
    const s = stand.state
    const ext = s.extensions[0]!
    ext.clientConfiguration = { timeoutInMilliseconds: 300, maximumRetries: 0 }
    ext.displayName = 'Renamed by the operator'
    s.listeners[0]!.conditions = {
      applications: { includeApplications: [{ appId: CLIENT_2 }] },
    }
    s.appRoleAssignments = []
    spOf(first.extensionAppId)!.accountEnabled = false
    const policy = s.claimsMappingPolicies[0]!
    policy.definition = [
      JSON.stringify({
        ClaimsMappingPolicy: {
          Version: 1,
          IncludeBasicClaimSet: 'true',
          ClaimsSchema: [
            { Source: 'CustomClaimsProvider', ID: 'apiVersion', JwtClaimType: 'ver_renamed' },
          ],
        },
      }),
    ]

    const mark = stand.requests.length
    const result = await register(graph, input({ claimNames: [...CLAIMS] }))
    expect(
      writesSince(mark).map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, '{id}')}`),
    ).toEqual([
      'POST /v1.0/servicePrincipals/{id}/appRoleAssignments',
      'PATCH /v1.0/identity/customAuthenticationExtensions/{id}',
      'PATCH /v1.0/identity/authenticationEventListeners/{id}',
      'PATCH /v1.0/policies/claimsMappingPolicies/{id}',
    ])
    expect(result.changes.filter((c) => c.action === 'updated').length).toBe(3)
    expect(ext.clientConfiguration).toEqual({ timeoutInMilliseconds: 1000, maximumRetries: 1 })
    expect(ext.displayName).toBe('Renamed by the operator')
    expect(s.listeners[0]!.conditions).toEqual({
      applications: { includeApplications: [{ appId: CLIENT_2 }, { appId: CLIENT }] },
    })
    // The operator's renamed JWT claim stays; the missing ones are added.
    const schema = (
      JSON.parse((policy.definition as string[])[0]!) as {
        ClaimsMappingPolicy: { ClaimsSchema: { ID: string; JwtClaimType: string }[] }
      }
    ).ClaimsMappingPolicy.ClaimsSchema
    expect(schema.map((e) => `${e.ID}:${e.JwtClaimType}`)).toEqual([
      'apiVersion:ver_renamed',
      'appRoles:appRoles',
      'correlationId:correlationId',
    ])
    // Someone may have disabled it on purpose: register says how to enable it, and does not.
    expect(spOf(first.extensionAppId)!.accountEnabled).toBe(false)
    expect(result.notes).toContainEqual(
      expect.stringMatching(
        new RegExp(`service principal ${spOf(first.extensionAppId)!.id} of app .* is disabled`),
      ),
    )
    const again = stand.requests.length
    await register(graph, input())
    expect(writesSince(again)).toEqual([])
  })
})

describe('register --dry-run', () => {
  it('reads the tenant, writes nothing, and lists every planned call in order', async () => {
    const before = JSON.stringify(stand.state)
    const mark = stand.requests.length
    const result = await register(graph, input({ dryRun: true }))
    expect(stand.requests.slice(mark).filter((r) => r.method !== 'GET')).toEqual([])
    expect(JSON.stringify(stand.state)).toBe(before)
    const planned = result.changes.filter((c) => c.action === 'planned')
    expect(planned.map((c) => `${c.request?.method} ${c.request?.path}`)).toEqual([
      'POST /v1.0/servicePrincipals',
      `PATCH /v1.0/applications(uniqueName='${extensionAppUniqueName(HOST)}')`,
      'PATCH /v1.0/applications/<new app>',
      'POST /v1.0/servicePrincipals',
      'POST /v1.0/servicePrincipals/<new extension service principal>/appRoleAssignments',
      'POST /v1.0/identity/customAuthenticationExtensions',
      'POST /v1.0/identity/authenticationEventListeners',
      'POST /v1.0/policies/claimsMappingPolicies',
      `POST /v1.0/servicePrincipals/${spOf(CLIENT)!.id}/claimsMappingPolicies/$ref`,
      `PATCH /v1.0/applications/${appOf(CLIENT)!.id}`,
    ])
    expect(planned[0]!.request?.body).toEqual({ appId: AUTH_EVENTS_APP_ID })
    expect(result.validation).toEqual([])

    // After a real run, a dry run plans nothing.
    await register(graph, input())
    const dry = await register(graph, input({ dryRun: true }))
    expect(dry.changes.filter((c) => c.action === 'planned')).toEqual([])
  })
})

describe('register, what it cannot do', () => {
  it('reports a target app with another policy or none in the tenant, and does the rest', async () => {
    const other = {
      id: randomUUID(),
      displayName: 'Someone else’s policy',
      definition: [JSON.stringify({ ClaimsMappingPolicy: { Version: 1, ClaimsSchema: [] } })],
      isOrganizationDefault: false,
    }
    stand.state.claimsMappingPolicies.push(other)
    stand.state.policyAssignments.push({
      servicePrincipalId: spOf(CLIENT_2)!.id,
      policyId: other.id,
    })
    const stranger = 'dddddddd-0000-4000-8000-00000000000d'
    const result = await register(graph, input({ targetAppIds: [CLIENT, CLIENT_2, stranger] }))
    expect(result.problems).toHaveLength(2)
    expect(result.problems[0]).toContain(
      `--app ${CLIENT_2}: its service principal already has the claims mapping policy "Someone else’s policy"`,
    )
    expect(result.problems[1]).toContain(`--app ${stranger}: no service principal`)
    // Everything else was done: the listener names all three apps.
    expect(stand.state.listeners[0]!.conditions).toMatchObject({
      applications: {
        includeApplications: [{ appId: CLIENT }, { appId: CLIENT_2 }, { appId: stranger }],
      },
    })
  })

  it('finding 1: refuses acceptMappedClaims on a multi-tenant app', async () => {
    // Contract trap 16: on a multi-tenant app, another tenant's admin could attach their own
    // claims mapping policy. CLIENT is multi-tenant; CLIENT_2 admits personal accounts and
    // already has it; FOREIGN is registered in another tenant (only its principal is here).
    const multi = stand.state.applications.find((a) => a.appId === CLIENT)!
    multi.signInAudience = 'AzureADMultipleOrgs'
    const personal = stand.state.applications.find((a) => a.appId === CLIENT_2)!
    personal.signInAudience = 'AzureADandPersonalMicrosoftAccount'
    personal.api = { requestedAccessTokenVersion: 2, acceptMappedClaims: true }
    const foreign = 'f0f0f0f0-0000-4000-8000-00000000000f'
    stand.state.servicePrincipals.push({
      id: randomUUID(),
      appId: foreign,
      displayName: 'Someone else’s SaaS app',
      accountEnabled: true,
    })

    const mark = stand.requests.length
    const result = await register(graph, input({ targetAppIds: [CLIENT, CLIENT_2, foreign] }))
    expect(appOf(CLIENT)!.api?.acceptMappedClaims).toBeNull()
    const targetAppPaths = [multi, personal].map((a) => `/v1.0/applications/${a.id}`)
    expect(writesSince(mark).filter((r) => targetAppPaths.includes(r.path))).toEqual([])
    expect(result.problems).toHaveLength(3)
    const [first, second, third] = result.problems
    expect(first).toContain(`--app ${CLIENT}`)
    expect(first).toContain('signInAudience AzureADMultipleOrgs')
    expect(first).toContain('register did not set api.acceptMappedClaims')
    expect(first).toContain('custom signing key')
    expect(second).toContain(`--app ${CLIENT_2}`)
    expect(second).toContain('signInAudience AzureADandPersonalMicrosoftAccount')
    expect(second).toContain('api.acceptMappedClaims is true')
    expect(second).toContain('custom signing key')
    expect(third).toContain(`--app ${foreign}`)
    expect(third).toContain('custom signing key')
    expect(third).not.toContain('Set api.acceptMappedClaims')
    // The claims mapping policy itself is still assigned: a signing key needs it as well.
    expect(stand.state.policyAssignments).toHaveLength(3)
    expect(result.changes.map((c) => c.step)).toContain(`acceptMappedClaims on app ${CLIENT}`)
    expect(
      result.changes.find((c) => c.step === `acceptMappedClaims on app ${CLIENT}`)?.action,
    ).toBe('skipped')
  })

  it('finding 1: doctor reports acceptMappedClaims on a multi-tenant app as an error', async () => {
    const first = await register(graph, input())
    const app = stand.state.applications.find((a) => a.appId === CLIENT)!
    app.signInAudience = 'AzureADMultipleOrgs' // made multi-tenant after register set it
    const findings = diagnose(await tenantFor(CLIENT), {
      baseUrl: BASE,
      appId: CLIENT,
      tenantId: tokens.tenantId,
      audiences: [first.settings.ENTRA_AUDIENCE],
      issuers: first.settings.ENTRA_ISSUER.split(','),
      requestBudgetMs: 750,
      claimNames: CLAIMS,
    })
    expect(findings.filter((f) => f.severity === 'error')).toEqual([
      {
        severity: 'error',
        code: 'accept-mapped-claims-multi-tenant',
        message: expect.stringContaining(
          `acceptMappedClaims on app ${CLIENT}: multi-tenant app (signInAudience AzureADMultipleOrgs)`,
        ),
        fix: expect.stringContaining('custom signing key'),
      },
    ])
  })

  it('skips listeners of sign-up events without --app, saying where to attach them', async () => {
    stand.state = customerTenant('CIAM')
    const result = await register(
      graph,
      input({ events: ['onAttributeCollectionSubmit'], targetAppIds: [] }),
    )
    expect(stand.state.listeners).toEqual([])
    expect(result.changes.find((c) => c.action === 'skipped')?.detail).toContain('user flow')
  })
})

describe('register and Graph errors', () => {
  it('retries 429 after Retry-After, and stops on 403 naming the call and Graph code', async () => {
    stand.throttleNext(2)
    const ok = await register(graph, input())
    expect(ok.problems).toEqual([])
    expect(stand.requests.filter((r) => r.status === 429)).toHaveLength(2)

    stand.state = customerTenant()
    stand.denied.add('POST /v1.0/identity/customAuthenticationExtensions')
    const err = (await register(graph, input()).catch((e: unknown) => e)) as GraphError
    expect(err).toBeInstanceOf(GraphError)
    expect(err.message).toMatch(
      /^POST \/v1\.0\/identity\/customAuthenticationExtensions: HTTP 403 Authorization_RequestDenied/,
    )
    // What came before is in place; a rerun without the denial finishes the job.
    expect(stand.state.appRoleAssignments).toHaveLength(1)
    stand.denied.clear()
    const done = await register(graph, input())
    expect(done.changes.filter((c) => c.action === 'created').map((c) => c.step)).toEqual([
      'extension onTokenIssuanceStart',
      'listener onTokenIssuanceStart',
      'claims mapping policy',
      `claims mapping for app ${CLIENT}`,
    ])
  })

  it('asks Graph to validate each extension, and a failing check does not fail the run', async () => {
    const mark = stand.requests.length
    const first = await register(graph, input({ events: ['onTokenIssuanceStart', 'onOtpSend'] }))
    expect(first.validation).toEqual([])
    expect(
      stand.requests
        .slice(mark)
        .filter((r) => r.path.endsWith('/validateAuthenticationConfiguration')),
    ).toHaveLength(2)
    stand.denied.add('POST /v1.0/identity/customAuthenticationExtensions/')
    const second = await register(graph, input({ events: ['onTokenIssuanceStart', 'onOtpSend'] }))
    expect(second.validation).toEqual([
      {
        route: 'onTokenIssuanceStart',
        severity: 'unavailable',
        code: 'validateAuthenticationConfiguration',
        message: expect.stringMatching(
          /^could not run \(POST .*HTTP 403 Authorization_RequestDenied/,
        ),
      },
      expect.objectContaining({ route: 'onOtpSend', severity: 'unavailable' }),
    ])
    expect(second.problems).toEqual([])
  })
})

describe('issue 16: Graph as Microsoft publishes it', () => {
  it('item 1: sends no priority (a beta-only property) in the v1.0 listener POSTs', async () => {
    const mark = stand.requests.length
    await register(graph, input({ events: ['onTokenIssuanceStart'] }))
    const posts = stand.requests
      .slice(mark)
      .filter(
        (r) => r.method === 'POST' && r.path === '/v1.0/identity/authenticationEventListeners',
      )
    expect(posts).toHaveLength(1)
    expect(posts[0]!.body).not.toHaveProperty('priority')
  })

  it('item 3: validates each extension through v1.0, where the action exists with the same answer', async () => {
    const mark = stand.requests.length
    const result = await register(graph, input({ events: ['onTokenIssuanceStart', 'onOtpSend'] }))
    const calls = stand.requests
      .slice(mark)
      .filter((r) => r.path.endsWith('/validateAuthenticationConfiguration'))
    expect(calls.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(
      Object.values(result.extensionIds).map(
        (id) =>
          `POST /v1.0/identity/customAuthenticationExtensions/${id}/validateAuthenticationConfiguration 200`,
      ),
    )
  })

  it('item 4: creates its app by the upsert on uniqueName, with Prefer: create-if-missing', async () => {
    const mark = stand.requests.length
    const result = await register(graph, input())
    const path = `/v1.0/applications(uniqueName='${extensionAppUniqueName(HOST)}')`
    const writes = writesSince(mark).filter((r) => r.path.startsWith('/v1.0/applications'))
    expect(writes[0]).toMatchObject({
      method: 'PATCH',
      path,
      status: 201,
      prefer: 'create-if-missing',
      body: { displayName: 'Contoso claims', signInAudience: 'AzureADMyOrg' },
    })
    expect(writes.filter((r) => r.method === 'POST')).toEqual([])
    const app = appOf(result.extensionAppId)
    expect(app?.uniqueName).toBe(extensionAppUniqueName(HOST))
    // No second write names uniqueName: the upsert gave it.
    expect(writes.slice(1).filter((r) => JSON.stringify(r.body).includes('uniqueName'))).toEqual([])
    expect(result.changes.find((c) => c.step === 'extension app registration')).toMatchObject({
      action: 'created',
      request: { method: 'PATCH', path, headers: { Prefer: 'create-if-missing' } },
    })
  })

  /** Another extension's OTP listener for all apps (a user flow's), as beta shows it. */
  function otherListenerForAllApps(): string {
    const other = {
      id: randomUUID(),
      '@odata.type': ROUTE_TYPES.onOtpSend.extension,
      displayName: 'Someone else’s OTP mail',
      endpointConfiguration: { targetUrl: 'https://other.example.test/api/otp' },
      authenticationConfiguration: { resourceId: `api://other.example.test/${randomUUID()}` },
      clientConfiguration: { timeoutInMilliseconds: 1000, maximumRetries: 1 },
    }
    const listenerId = randomUUID()
    stand.state.extensions.push(other)
    stand.state.listeners.push({
      id: listenerId,
      '@odata.type': ROUTE_TYPES.onOtpSend.listener,
      conditions: { applications: { includeAllApplications: true, includeApplications: [] } },
      handler: {
        '@odata.type': ROUTE_TYPES.onOtpSend.handler,
        customExtension: { id: other.id },
      },
    })
    return listenerId
  }

  it('item 2: register sees a listener for all apps bound to another extension, and adds no second one', async () => {
    stand.state = customerTenant('CIAM')
    stand.state.servicePrincipals.push({
      id: randomUUID(),
      appId: AUTH_EVENTS_APP_ID,
      displayName: 'Azure AD authentication events',
      accountEnabled: true,
    })
    const theirs = otherListenerForAllApps()
    const result = await register(graph, input({ events: ['onOtpSend'] }))
    expect(stand.state.listeners.map((l) => l.id)).toEqual([theirs])
    expect(result.problems).toEqual([
      expect.stringContaining(`--app ${CLIENT}: listener ${theirs} already binds onOtpSend`),
    ])
  })

  it('item 2: doctor reports a listener for all apps that competes with ours', async () => {
    stand.state = customerTenant('CIAM')
    const first = await register(graph, input({ events: ['onOtpSend'] }))
    const theirs = otherListenerForAllApps()
    const findings = diagnose(await tenantFor(CLIENT), {
      baseUrl: BASE,
      appId: CLIENT,
      tenantId: tokens.tenantId,
      audiences: [first.settings.ENTRA_AUDIENCE],
      issuers: first.settings.ENTRA_ISSUER.split(','),
      requestBudgetMs: 750,
      claimNames: [],
    })
    expect(findings.filter((f) => f.code === 'listener-duplicate')).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringContaining(`2 onOtpSend listeners apply to it`),
      }),
    ])
    expect(findings.find((f) => f.code === 'listener-duplicate')?.message).toContain(theirs)
  })
})

describe('register leaves alone what others made', () => {
  it("does not enable a disabled service principal (Microsoft's authentication events one either), and doctor reports it as an error", async () => {
    const first = await register(graph, input())
    const authEvents = spOf(AUTH_EVENTS_APP_ID)!
    authEvents.accountEnabled = false
    const mark = stand.requests.length
    const again = await register(graph, input())
    expect(writesSince(mark)).toEqual([])
    expect(authEvents.accountEnabled).toBe(false)
    const note = again.notes.find((n) => n.includes(authEvents.id))
    expect(note).toContain('Azure AD authentication events')
    expect(note).toContain(
      `PATCH /v1.0/servicePrincipals/${authEvents.id} with {"accountEnabled":true}`,
    )
    const findings = diagnose(await tenantFor(CLIENT), {
      baseUrl: BASE,
      appId: CLIENT,
      tenantId: tokens.tenantId,
      audiences: [first.settings.ENTRA_AUDIENCE],
      issuers: first.settings.ENTRA_ISSUER.split(','),
      requestBudgetMs: 750,
      claimNames: CLAIMS,
    })
    expect(findings.filter((f) => f.severity === 'error')).toEqual([
      expect.objectContaining({ code: 'auth-events-sp-missing', fix: note }),
    ])
  })

  it('neither changes nor assigns a claims mapping policy of its name that it did not make', async () => {
    const theirs = {
      id: randomUUID(),
      displayName: `Custom claims from ${HOST}`,
      isOrganizationDefault: false,
      definition: [
        JSON.stringify({
          ClaimsMappingPolicy: {
            Version: 1,
            IncludeBasicClaimSet: 'true',
            ClaimsSchema: [{ Source: 'user', ID: 'employeeid', JwtClaimType: 'employee' }],
          },
        }),
      ],
    }
    stand.state.claimsMappingPolicies.push(structuredClone(theirs))
    const mark = stand.requests.length
    const result = await register(graph, input())
    expect(stand.state.claimsMappingPolicies).toEqual([theirs])
    expect(stand.state.policyAssignments).toEqual([])
    expect(writesSince(mark).filter((r) => r.path.includes('claimsMappingPolic'))).toEqual([])
    expect(result.notes).toContainEqual(
      expect.stringContaining(
        `the claims mapping policy ${theirs.id} is named "Custom claims from ${HOST}", as register names its own, but holds settings or mappings register does not write`,
      ),
    )
  })

  it('does not narrow a listener for all apps to --app', async () => {
    stand.state = customerTenant('CIAM')
    await register(graph, input({ events: ['onOtpSend'] }))
    const listener = stand.state.listeners[0]!
    listener.conditions = {
      applications: { includeAllApplications: true, includeApplications: [] },
    }
    const mark = stand.requests.length
    const again = await register(graph, input({ events: ['onOtpSend'], targetAppIds: [CLIENT_2] }))
    expect(writesSince(mark)).toEqual([])
    expect(again.changes.find((c) => c.step === 'listener onOtpSend')?.detail).toContain('all apps')
    expect(listener.conditions).toEqual({
      applications: { includeAllApplications: true, includeApplications: [] },
    })
  })

  it('finds its extension behind a function key, another case or a trailing slash, and cleans the URL', async () => {
    const first = await register(graph, input())
    const ext = stand.state.extensions[0]!
    ext.endpointConfiguration = {
      '@odata.type': '#microsoft.graph.httpRequestEndpoint',
      targetUrl: `${BASE}/API/onTokenIssuanceStart/?code=function-key`,
    }
    const mark = stand.requests.length
    const again = await register(graph, input())
    expect(stand.state.extensions).toHaveLength(1)
    expect(stand.state.listeners).toHaveLength(1)
    expect(again.extensionIds.onTokenIssuanceStart).toBe(first.extensionIds.onTokenIssuanceStart)
    expect(writesSince(mark).map((r) => r.method)).toEqual(['PATCH'])
    expect(ext.endpointConfiguration).toMatchObject({
      targetUrl: `${BASE}/api/onTokenIssuanceStart`,
    })
  })

  it('does not bind an app a second time when another extension’s listener has it', async () => {
    const otherExtension = {
      id: randomUUID(),
      '@odata.type': ROUTE_TYPES.onTokenIssuanceStart.extension,
      displayName: 'Someone else’s claims',
      endpointConfiguration: { targetUrl: 'https://other.example.test/api/claims' },
      authenticationConfiguration: { resourceId: `api://other.example.test/${randomUUID()}` },
      clientConfiguration: { timeoutInMilliseconds: 1000, maximumRetries: 1 },
    }
    stand.state.servicePrincipals.push({
      id: randomUUID(),
      appId: AUTH_EVENTS_APP_ID,
      displayName: 'Azure AD authentication events',
      accountEnabled: true,
    })
    stand.state.extensions.push(otherExtension)
    stand.state.listeners.push({
      id: randomUUID(),
      '@odata.type': ROUTE_TYPES.onTokenIssuanceStart.listener,
      priority: 500,
      conditions: { applications: { includeApplications: [{ appId: CLIENT }] } },
      handler: {
        '@odata.type': ROUTE_TYPES.onTokenIssuanceStart.handler,
        customExtension: { id: otherExtension.id },
      },
    })
    const result = await register(graph, input({ targetAppIds: [CLIENT, CLIENT_2] }))
    expect(result.problems).toEqual([
      expect.stringContaining(
        `--app ${CLIENT}: listener ${stand.state.listeners[0]!.id} already binds onTokenIssuanceStart`,
      ),
    ])
    // Ours binds only the app nobody else had.
    expect(stand.state.listeners).toHaveLength(2)
    expect(stand.state.listeners[1]!.conditions).toEqual({
      applications: { includeApplications: [{ appId: CLIENT_2 }] },
    })
  })

  it('keeps claims added to the extension by hand, and never empties the list', async () => {
    await register(graph, input())
    const ext = stand.state.extensions[0]!
    ext.claimsForTokenConfiguration = [
      ...(ext.claimsForTokenConfiguration as object[]),
      { claimIdInApiResponse: 'addedInThePortal' },
    ]
    const mark = stand.requests.length
    await register(graph, input({ claimNames: [...CLAIMS, 'newClaim'] }))
    expect(
      (ext.claimsForTokenConfiguration as { claimIdInApiResponse: string }[]).map(
        (c) => c.claimIdInApiResponse,
      ),
    ).toEqual([...CLAIMS, 'addedInThePortal', 'newClaim'])
    expect(
      writesSince(mark).filter((r) => r.path.includes('customAuthenticationExtensions')),
    ).toHaveLength(1)
    const quiet = stand.requests.length
    await register(graph, input({ claimNames: [], claimsMapping: false }))
    expect(writesSince(quiet)).toEqual([])
  })

  it('adds the OTP fallback to a listener without losing its other handler settings', async () => {
    stand.state = customerTenant('CIAM')
    await register(graph, input({ events: ['onOtpSend'] }))
    const listener = stand.state.listeners[0]!
    const handler = listener.handler as Record<string, unknown>
    handler.configuration = { clientConfiguration: { timeoutInMilliseconds: 1500 } }
    await register(graph, input({ events: ['onOtpSend'], otpFallback: true }))
    expect((listener.handler as Record<string, unknown>).configuration).toEqual({
      clientConfiguration: { timeoutInMilliseconds: 1500 },
      behaviorOnError: FALLBACK_TO_MICROSOFT,
    })
  })
})
