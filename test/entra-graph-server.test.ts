// The Entra registration Graph stand-in (test/support/entra-graph-server.ts) over real HTTPS: its
// state, its validation (contract §7 and trap 12), paging, faults and recording.
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  AUTH_EVENTS_APP_ID,
  emptyEntraState,
  GRAPH_APP_ID,
  RECEIVE_PAYLOAD_ROLE_ID,
  startEntraGraphServer,
  type EntraGraphStandIn,
  type GraphObject,
} from './support/entra-graph-server.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from './support/token-endpoint.js'

const HOST = 'ext.contoso.test'
const CLIENT_APP = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa'
const TOKEN_TYPE = '#microsoft.graph.onTokenIssuanceStartCustomExtension'
const OTP_TYPE = '#microsoft.graph.onOtpSendCustomExtension'

/** A Graph answer's JSON, as far as these tests read it (undefined when there was no body). */
interface GraphJson {
  readonly id: string
  readonly appId: string
  readonly displayName: string
  readonly value: GraphObject[]
  readonly '@odata.context': string
  readonly '@odata.nextLink'?: string
  readonly error: {
    readonly code: string
    readonly message: string
    readonly innerError: Readonly<Record<string, string>>
  }
  readonly errors: { readonly code: string; readonly message: string }[]
  readonly warnings: { readonly code: string; readonly message: string }[]
  readonly [property: string]: unknown
}

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: GraphJson
}

let tokens: TokenEndpointStandIn
let graph: EntraGraphStandIn
let token: string

async function tokenFor(audience: string): Promise<string> {
  const res = await fetch(tokens.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: tokens.clientId,
      client_secret: tokens.clientSecret,
      scope: `${audience}/.default`,
    }),
  })
  const body = (await res.json()) as { access_token: string }
  return body.access_token
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  bearer: string | null = token,
  more: Readonly<Record<string, string>> = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...more }
  if (bearer !== null) headers.authorization = `Bearer ${bearer}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const url = path.startsWith('https://') ? path : `${graph.origin}${path}`
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return {
    status: res.status,
    headers: res.headers,
    body: text === '' ? undefined : JSON.parse(text),
  }
}

function expectGraphError(answer: Answer, status: number, code: string, message?: RegExp) {
  expect(answer.status).toBe(status)
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
  expect(answer.body.error).toMatchObject({
    code,
    innerError: {
      date: expect.any(String),
      'request-id': expect.any(String),
      'client-request-id': expect.any(String),
    },
  })
  if (message !== undefined) expect(answer.body.error.message).toMatch(message)
}

/** An app with its identifier URI, its SP, and the Receive.Payload grant: what registration makes. */
async function registeredApp(): Promise<{ app: GraphObject; sp: GraphObject }> {
  const app = (await call('POST', '/v1.0/applications', { displayName: 'Auth extension' })).body
  const resource = `api://${HOST}/${app.appId}`
  expect(
    (await call('PATCH', `/v1.0/applications/${app.id}`, { identifierUris: [resource] })).status,
  ).toBe(204)
  const sp = (await call('POST', '/v1.0/servicePrincipals', { appId: app.appId })).body
  return { app: { ...app, identifierUris: [resource] }, sp }
}

const graphSp = () =>
  graph.state.servicePrincipals.find((sp) => sp.appId === GRAPH_APP_ID) as GraphObject

async function grant(sp: GraphObject): Promise<Answer> {
  return call('POST', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignments`, {
    principalId: sp.id,
    resourceId: graphSp().id,
    appRoleId: RECEIVE_PAYLOAD_ROLE_ID,
  })
}

function extensionBody(appId: string, type = TOKEN_TYPE, more: object = {}): object {
  return {
    '@odata.type': type,
    displayName: 'Claims from HR',
    endpointConfiguration: {
      '@odata.type': '#microsoft.graph.httpRequestEndpoint',
      targetUrl: `https://${HOST}/api/onTokenIssuanceStart`,
    },
    authenticationConfiguration: {
      '@odata.type': '#microsoft.graph.azureAdTokenAuthentication',
      resourceId: `api://${HOST}/${appId}`,
    },
    clientConfiguration: { timeoutInMilliseconds: 2000, maximumRetries: 1 },
    ...(type === TOKEN_TYPE
      ? { claimsForTokenConfiguration: [{ claimIdInApiResponse: 'employeeNumber' }] }
      : {}),
    ...more,
  }
}

async function authEventsSp(): Promise<void> {
  expect(
    (await call('POST', '/v1.0/servicePrincipals', { appId: AUTH_EVENTS_APP_ID })).status,
  ).toBe(201)
}

beforeAll(async () => {
  tokens = await startTokenEndpoint()
  graph = await startEntraGraphServer({ tokens, state: emptyEntraState(tokens.tenantId, 'CIAM') })
  token = await tokenFor(graph.origin)
})
afterAll(async () => {
  await graph.close()
  await tokens.close()
})
beforeEach(() => {
  graph.state = emptyEntraState(tokens.tenantId, 'CIAM')
  graph.pageSize = 100
  graph.denied.clear()
  graph.requests.length = 0
})

describe('entra graph stand-in', () => {
  it('answers 401 InvalidAuthenticationToken without a token for its own origin', async () => {
    expectGraphError(
      await call('GET', '/v1.0/organization', undefined, null),
      401,
      'InvalidAuthenticationToken',
    )
    const forRealGraph = await tokenFor('https://graph.microsoft.com')
    expectGraphError(
      await call('GET', '/v1.0/organization', undefined, forRealGraph),
      401,
      'InvalidAuthenticationToken',
    )
  })

  it('starts empty but for Microsoft Graph, and names the tenant and its type', async () => {
    const org = await call('GET', '/v1.0/organization')
    expect(org.body['@odata.context']).toBe(`${graph.origin}/v1.0/$metadata#organization`)
    expect(org.body.value).toEqual([
      { id: tokens.tenantId, tenantType: 'CIAM', displayName: 'Contoso' },
    ])
    const microsoftGraph = await call('GET', `/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')`)
    expect(microsoftGraph.status).toBe(200)
    expect(microsoftGraph.body).toMatchObject({
      displayName: 'Microsoft Graph',
      accountEnabled: true,
      appRoles: [
        { id: RECEIVE_PAYLOAD_ROLE_ID, value: 'CustomAuthenticationExtension.Receive.Payload' },
      ],
    })
    // Not the authentication events app's: a registration tool creates it (trap 12).
    expectGraphError(
      await call('GET', `/v1.0/servicePrincipals(appId='${AUTH_EVENTS_APP_ID}')`),
      404,
      'Request_ResourceNotFound',
    )
  })

  it('creates an application with defaults and finds it by id, appId and uniqueName', async () => {
    const created = await call('POST', '/v1.0/applications', {
      displayName: 'Auth extension',
      uniqueName: 'auth-extension',
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      '@odata.context': `${graph.origin}/v1.0/$metadata#applications/$entity`,
      displayName: 'Auth extension',
      uniqueName: 'auth-extension',
      identifierUris: [],
      requiredResourceAccess: [],
      api: {
        requestedAccessTokenVersion: null,
        acceptMappedClaims: null,
        oauth2PermissionScopes: [],
      },
    })
    const { id, appId } = created.body
    expect(id).not.toBe(appId)
    for (const path of [
      `/v1.0/applications/${id}`,
      `/v1.0/applications(appId='${appId}')`,
      `/v1.0/applications(uniqueName='auth-extension')`,
      `/v1.0/applications(appId=%27${appId}%27)`,
    ])
      expect((await call('GET', path)).body.id).toBe(id)
    expectGraphError(
      await call('GET', `/v1.0/applications/${appId}`), // an appId is not an object id
      404,
      'Request_ResourceNotFound',
    )
    expectGraphError(
      await call('POST', '/v1.0/applications', {
        displayName: 'Other',
        uniqueName: 'auth-extension',
      }),
      400,
      'Request_MultipleObjectsWithSameKeyValue',
    )
    expectGraphError(
      await call('POST', '/v1.0/applications', { uniqueName: 'x' }),
      400,
      'Request_BadRequest',
    )
  })

  it("patches an application, merging api, and insists on the app's own appId in identifier URIs", async () => {
    const app = (await call('POST', '/v1.0/applications', { displayName: 'Auth extension' })).body
    const path = `/v1.0/applications(appId='${app.appId}')`
    expect((await call('PATCH', path, { api: { acceptMappedClaims: true } })).status).toBe(204)
    const patched = await call('PATCH', path, {
      identifierUris: [`api://${HOST}/${app.appId}`],
      api: { requestedAccessTokenVersion: 2 },
    })
    expect(patched).toMatchObject({ status: 204, body: undefined })
    expect((await call('GET', path)).body).toMatchObject({
      identifierUris: [`api://${HOST}/${app.appId}`],
      api: { requestedAccessTokenVersion: 2, acceptMappedClaims: true, oauth2PermissionScopes: [] },
    })
    for (const uri of [`api://${HOST}/${CLIENT_APP}`, `https://${HOST}/${app.appId}`])
      expectGraphError(
        await call('PATCH', path, { identifierUris: [uri] }),
        400,
        'Request_BadRequest',
        /identifierUris/,
      )
  })

  it('keeps signInAudience: AzureADMyOrg by default, the four audiences, v2 tokens for personal accounts', async () => {
    const made = (await call('POST', '/v1.0/applications', { displayName: 'Single' })).body
    expect(made.signInAudience).toBe('AzureADMyOrg')
    // A seeded app without the property is answered with Graph's default too.
    graph.state.applications.push({ id: randomUUID(), appId: CLIENT_APP, displayName: 'Seeded' })
    expect((await call('GET', `/v1.0/applications(appId='${CLIENT_APP}')`)).body).toMatchObject({
      signInAudience: 'AzureADMyOrg',
    })
    const multi = await call('POST', '/v1.0/applications', {
      displayName: 'Multi',
      signInAudience: 'AzureADMultipleOrgs',
    })
    expect(multi.body.signInAudience).toBe('AzureADMultipleOrgs')
    for (const audience of ['AzureADandPersonalMicrosoftAccount', 'PersonalMicrosoftAccount']) {
      const app = (await call('POST', '/v1.0/applications', { displayName: audience })).body
      const path = `/v1.0/applications/${app.id}`
      expectGraphError(
        await call('PATCH', path, { signInAudience: audience }),
        400,
        'Request_BadRequest',
        /requestedAccessTokenVersion/,
      )
      expect(
        (
          await call('PATCH', path, {
            signInAudience: audience,
            api: { requestedAccessTokenVersion: 2 },
          })
        ).status,
      ).toBe(204)
      expect((await call('GET', path)).body.signInAudience).toBe(audience)
    }
    expectGraphError(
      await call('PATCH', `/v1.0/applications/${multi.body.id}`, { signInAudience: 'Everyone' }),
      400,
      'Request_BadRequest',
      /signInAudience/,
    )
  })

  it('creates service principals for apps and the two first-party apps only, once', async () => {
    const app = (await call('POST', '/v1.0/applications', { displayName: 'Auth extension' })).body
    const sp = await call('POST', '/v1.0/servicePrincipals', { appId: app.appId })
    expect(sp.status).toBe(201)
    expect(sp.body).toMatchObject({
      appId: app.appId,
      displayName: 'Auth extension',
      accountEnabled: true,
    })
    expectGraphError(
      await call('POST', '/v1.0/servicePrincipals', { appId: app.appId }),
      400,
      'Request_MultipleObjectsWithSameKeyValue',
    )
    expectGraphError(
      await call('POST', '/v1.0/servicePrincipals', { appId: CLIENT_APP }),
      400,
      'Request_BadRequest',
    )
    const events = await call('POST', '/v1.0/servicePrincipals', { appId: AUTH_EVENTS_APP_ID })
    expect(events.body).toMatchObject({
      displayName: 'Azure AD authentication events',
      accountEnabled: true,
    })
  })

  it('grants an app role once, and only one the resource has, to the SP in the URL', async () => {
    const { sp } = await registeredApp()
    const granted = await grant(sp)
    expect(granted.status).toBe(201)
    expect(granted.body).toMatchObject({
      principalId: sp.id,
      resourceId: graphSp().id,
      appRoleId: RECEIVE_PAYLOAD_ROLE_ID,
      createdDateTime: expect.any(String),
    })
    const listed = await call('GET', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignments`)
    expect(listed.body.value.map((a: GraphObject) => a.id)).toEqual([granted.body.id])
    expectGraphError(await grant(sp), 400, 'Request_BadRequest', /already exists on the object/)
    const assignments = `/v1.0/servicePrincipals/${sp.id}/appRoleAssignments`
    expectGraphError(
      await call('POST', assignments, {
        principalId: sp.id,
        resourceId: graphSp().id,
        appRoleId: CLIENT_APP,
      }),
      400,
      'Request_BadRequest',
    )
    expectGraphError(
      await call('POST', assignments, {
        principalId: graphSp().id,
        resourceId: graphSp().id,
        appRoleId: RECEIVE_PAYLOAD_ROLE_ID,
      }),
      400,
      'Request_BadRequest',
    )
    expect(graph.state.appRoleAssignments).toHaveLength(1)
  })

  it('refuses an extension until the authentication events SP exists (trap 12)', async () => {
    const { app } = await registeredApp()
    const denied = await call(
      'POST',
      '/v1.0/identity/customAuthenticationExtensions',
      extensionBody(app.appId as string),
    )
    expectGraphError(denied, 403, 'Authorization_RequestDenied', new RegExp(AUTH_EVENTS_APP_ID))
    expect(graph.state.extensions).toEqual([])
    await authEventsSp()
    const created = await call(
      'POST',
      '/v1.0/identity/customAuthenticationExtensions',
      extensionBody(app.appId as string),
    )
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      '@odata.context': `${graph.origin}/v1.0/$metadata#identity/customAuthenticationExtensions/$entity`,
      '@odata.type': TOKEN_TYPE,
      id: expect.any(String),
      claimsForTokenConfiguration: [{ claimIdInApiResponse: 'employeeNumber' }],
    })
    const read = await call(
      'GET',
      `/v1.0/identity/customAuthenticationExtensions/${created.body.id}`,
    )
    expect(read.body.displayName).toBe('Claims from HR')
  })

  it('validates extensions on POST and PATCH', async () => {
    await authEventsSp()
    const collection = '/v1.0/identity/customAuthenticationExtensions'
    const created = (await call('POST', collection, extensionBody(CLIENT_APP))).body
    const one = `${collection}/${created.id}`
    const timeout = await call('PATCH', one, {
      clientConfiguration: { timeoutInMilliseconds: 5000, maximumRetries: 1 },
    })
    expectGraphError(timeout, 400, 'Request_BadRequest', /timeoutInMilliseconds/)
    expect(graph.state.extensions[0]?.clientConfiguration).toEqual({
      timeoutInMilliseconds: 2000,
      maximumRetries: 1,
    })
    expectGraphError(
      await call('PATCH', one, { '@odata.type': OTP_TYPE }),
      400,
      'Request_BadRequest',
    )
    expect((await call('PATCH', one, { displayName: 'Renamed' })).status).toBe(204)
    expect(graph.state.extensions[0]?.displayName).toBe('Renamed')
    for (const body of [
      extensionBody(CLIENT_APP, '#microsoft.graph.onSomethingElse'),
      extensionBody(CLIENT_APP, OTP_TYPE, {
        claimsForTokenConfiguration: [{ claimIdInApiResponse: 'x' }],
      }),
      extensionBody(CLIENT_APP, TOKEN_TYPE, {
        endpointConfiguration: { targetUrl: `http://${HOST}/api` },
      }),
      extensionBody(CLIENT_APP, TOKEN_TYPE, { clientConfiguration: { maximumRetries: 2 } }),
      extensionBody(CLIENT_APP, TOKEN_TYPE, { displayName: undefined }),
    ])
      expectGraphError(await call('POST', collection, body), 400, 'Request_BadRequest')
    expect(graph.state.extensions).toHaveLength(1)
  })

  it('validates listeners: handler type, extension event, conditions; beta defaults priority', async () => {
    await authEventsSp()
    const issuance = (
      await call('POST', '/v1.0/identity/customAuthenticationExtensions', extensionBody(CLIENT_APP))
    ).body
    const otp = (
      await call(
        'POST',
        '/v1.0/identity/customAuthenticationExtensions',
        extensionBody(CLIENT_APP, OTP_TYPE),
      )
    ).body
    const listener = (
      handlerType: string,
      extensionId: string,
      applications: object = {
        includeApplications: [{ appId: CLIENT_APP }],
      },
    ) => ({
      '@odata.type': '#microsoft.graph.onTokenIssuanceStartListener',
      conditions: { applications },
      handler: { '@odata.type': handlerType, customExtension: { id: extensionId } },
    })
    const collection = '/v1.0/identity/authenticationEventListeners'
    const handler = '#microsoft.graph.onTokenIssuanceStartCustomExtensionHandler'
    expectGraphError(
      await call(
        'POST',
        collection,
        listener('#microsoft.graph.onOtpSendCustomExtensionHandler', issuance.id),
      ),
      400,
      'Request_BadRequest',
      /handler/,
    )
    expectGraphError(
      await call('POST', collection, listener(handler, otp.id)),
      400,
      'Request_BadRequest',
    )
    expectGraphError(
      await call(
        'POST',
        '/beta/identity/authenticationEventListeners',
        listener(handler, issuance.id, { includeAllApplications: true }),
      ),
      400,
      'Request_BadRequest',
      /includeAllApplications must be false/,
    )
    const created = await call('POST', collection, listener(handler, issuance.id))
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ handler: { customExtension: { id: issuance.id } } })
    expect(created.body).not.toHaveProperty('priority')
    const beta = await call('GET', `/beta/identity/authenticationEventListeners/${created.body.id}`)
    expect(beta.body).toMatchObject({
      priority: 500,
      conditions: { applications: { includeAllApplications: false } },
    })
    expectGraphError(
      await call('PATCH', `/beta/identity/authenticationEventListeners/${created.body.id}`, {
        priority: 1001,
      }),
      400,
      'Request_BadRequest',
    )
    expect(graph.state.listeners).toHaveLength(1)
  })

  it('creates, assigns (once, one per SP) and unassigns claims mapping policies', async () => {
    const { sp } = await registeredApp()
    const definition = [JSON.stringify({ ClaimsMappingPolicy: { Version: 1, ClaimsSchema: [] } })]
    const policies = '/v1.0/policies/claimsMappingPolicies'
    expectGraphError(
      await call('POST', policies, { displayName: 'p', definition: ['{"Version":1}'] }),
      400,
      'Request_BadRequest',
      /definition/,
    )
    const first = await call('POST', policies, { displayName: 'Claims', definition })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ definition, isOrganizationDefault: false })
    const second = (await call('POST', policies, { displayName: 'Other', definition })).body
    const ref = `/v1.0/servicePrincipals/${sp.id}/claimsMappingPolicies/$ref`
    const link = (id: string) => ({
      '@odata.id': `https://graph.microsoft.com/v1.0/policies/claimsMappingPolicies/${id}`,
    })
    expect((await call('POST', ref, link(first.body.id))).status).toBe(204)
    expectGraphError(
      await call('POST', ref, link(first.body.id)),
      400,
      'Request_BadRequest',
      /already exist/,
    )
    expectGraphError(
      await call('POST', ref, link(second.id)),
      400,
      'Request_BadRequest',
      /Only one policy/,
    )
    expectGraphError(await call('POST', ref, link(CLIENT_APP)), 400, 'Request_BadRequest')
    const assigned = await call('GET', `/v1.0/servicePrincipals/${sp.id}/claimsMappingPolicies`)
    expect(assigned.body.value.map((p: GraphObject) => p.id)).toEqual([first.body.id])
    expect(
      (
        await call(
          'DELETE',
          `/v1.0/servicePrincipals/${sp.id}/claimsMappingPolicies/${first.body.id}/$ref`,
        )
      ).status,
    ).toBe(204)
    expect(graph.state.policyAssignments).toEqual([])
  })

  it('pages lists by an absolute @odata.nextLink', async () => {
    for (let i = 0; i < 5; i += 1)
      await call('POST', '/v1.0/applications', { displayName: `App ${i}` })
    graph.pageSize = 2
    const names: string[] = []
    let next: string | undefined = '/v1.0/applications'
    let pages = 0
    while (next !== undefined) {
      const page: Answer = await call('GET', next)
      expect(page.status).toBe(200)
      expect(page.body.value.length).toBeLessThanOrEqual(2)
      names.push(...page.body.value.map((a) => String(a.displayName)))
      next = page.body['@odata.nextLink']
      if (next !== undefined)
        expect(next.startsWith(`${graph.origin}/v1.0/applications?`)).toBe(true)
      pages += 1
    }
    expect(pages).toBe(3)
    expect(names).toEqual(['App 0', 'App 1', 'App 2', 'App 3', 'App 4'])
    expect(
      graph.requests
        .filter((r) => r.method === 'GET')
        .map((r) => r.query.startsWith('$skiptoken=')),
    ).toEqual([false, true, true])
  })

  it('throttles the next requests with 429 and Retry-After, before checking the token', async () => {
    graph.throttleNext(2, 3)
    const first = await call('GET', '/v1.0/organization', undefined, null)
    expectGraphError(first, 429, 'TooManyRequests')
    expect(first.headers.get('retry-after')).toBe('3')
    expect((await call('GET', '/v1.0/organization')).status).toBe(429)
    expect((await call('GET', '/v1.0/organization')).status).toBe(200)
  })

  it('answers 403 Authorization_RequestDenied on denied paths, for one method or all', async () => {
    await authEventsSp()
    graph.denied.add('POST /v1.0/identity/customAuthenticationExtensions')
    graph.denied.add('/v1.0/applications')
    expectGraphError(
      await call(
        'POST',
        '/v1.0/identity/customAuthenticationExtensions',
        extensionBody(CLIENT_APP),
      ),
      403,
      'Authorization_RequestDenied',
      /Insufficient privileges/,
    )
    expect((await call('GET', '/v1.0/identity/customAuthenticationExtensions')).status).toBe(200)
    expectGraphError(
      await call('GET', `/v1.0/applications(appId='${CLIENT_APP}')`),
      403,
      'Authorization_RequestDenied',
    )
    expect(graph.state.extensions).toEqual([])
  })

  it('item 5: validates an extension authentication configuration on v1.0 and beta alike', async () => {
    await authEventsSp()
    const { app, sp } = await registeredApp()
    const appId = app.appId as string
    const make = async (more: object) =>
      (
        await call(
          'POST',
          '/v1.0/identity/customAuthenticationExtensions',
          extensionBody(appId, TOKEN_TYPE, more),
        )
      ).body.id
    const validate = async (id: string, version = 'v1.0') => {
      const answer = await call(
        'POST',
        `/${version}/identity/customAuthenticationExtensions/${id}/validateAuthenticationConfiguration`,
      )
      expect(answer.status).toBe(200)
      const codes = (list: { code: string; message: string }[]) =>
        list.map((e) => {
          expect(e.message).toEqual(expect.any(String))
          return e.code
        })
      return { errors: codes(answer.body.errors), warnings: codes(answer.body.warnings) }
    }
    const auth = (resourceId: string) => ({
      authenticationConfiguration: {
        '@odata.type': '#microsoft.graph.azureAdTokenAuthentication',
        resourceId,
      },
    })
    expect(await validate(await make(auth(appId)))).toEqual({
      errors: ['IncorrectResourceIdFormat'],
      warnings: [],
    })
    expect(await validate(await make(auth(`api://other.contoso.test/${CLIENT_APP}`)))).toEqual({
      errors: ['DomainNameDoesNotMatch', 'ServicePrincipalNotFound'],
      warnings: [],
    })
    const good = await make({})
    expect(await validate(good)).toEqual({
      errors: [],
      warnings: ['PermissionNotGrantedToServicePrincipal'],
    })
    expect(await validate(good, 'beta')).toEqual(await validate(good))
    expect((await grant(sp)).status).toBe(201)
    expect(await validate(good)).toEqual({ errors: [], warnings: [] })
    expect(await validate(good, 'beta')).toEqual({ errors: [], warnings: [] })
  })

  it('item 5: rejects on v1.0 what only beta has, and answers each version its own properties', async () => {
    await authEventsSp()
    const extension = (
      await call(
        'POST',
        '/v1.0/identity/customAuthenticationExtensions',
        extensionBody(CLIENT_APP, OTP_TYPE),
      )
    ).body
    const body = (more: object = {}, applications: object = {}) => ({
      '@odata.type': '#microsoft.graph.onEmailOtpSendListener',
      conditions: {
        applications: { includeApplications: [{ appId: CLIENT_APP }], ...applications },
      },
      handler: {
        '@odata.type': '#microsoft.graph.onOtpSendCustomExtensionHandler',
        customExtension: { id: extension.id },
      },
      ...more,
    })
    const v1 = '/v1.0/identity/authenticationEventListeners'
    const beta = '/beta/identity/authenticationEventListeners'
    const unknown = (name: string, type: string) =>
      new RegExp(`^The property '${name}' does not exist on type 'microsoft\\.graph\\.${type}'`)
    expectGraphError(
      await call('POST', v1, body({ priority: 500 })),
      400,
      'Request_BadRequest',
      unknown('priority', 'onEmailOtpSendListener'),
    )
    expectGraphError(
      await call('POST', v1, body({}, { includeAllApplications: true })),
      400,
      'Request_BadRequest',
      unknown('includeAllApplications', 'authenticationConditionsApplications'),
    )
    expectGraphError(
      await call(
        'POST',
        v1,
        body({ handler: { ...body().handler, configuration: { timeoutInMilliseconds: 1 } } }),
      ),
      400,
      'Request_BadRequest',
      unknown('timeoutInMilliseconds', 'customExtensionOverwriteConfiguration'),
    )
    expect(graph.state.listeners).toEqual([])
    // Beta takes them; v1.0 then answers without them, beta with them.
    const made = await call('POST', beta, body({ priority: 700 }, { includeAllApplications: true }))
    expect(made.status).toBe(201)
    expect(made.body).toMatchObject({ priority: 700 })
    const [atV1] = (await call('GET', v1)).body.value
    expect(atV1).not.toHaveProperty('priority')
    expect(atV1!.conditions).toEqual({
      applications: { includeApplications: [{ appId: CLIENT_APP }] },
    })
    const [atBeta] = (await call('GET', beta)).body.value
    expect(atBeta).toMatchObject({
      priority: 700,
      conditions: { applications: { includeAllApplications: true } },
    })
    expectGraphError(
      await call('PATCH', `${v1}/${made.body.id}`, {
        '@odata.type': '#microsoft.graph.onEmailOtpSendListener',
        priority: 1,
      }),
      400,
      'Request_BadRequest',
      unknown('priority', 'onEmailOtpSendListener'),
    )
    // Extensions and applications too.
    expectGraphError(
      await call(
        'POST',
        '/v1.0/identity/customAuthenticationExtensions',
        extensionBody(CLIENT_APP, OTP_TYPE, { priority: 1 }),
      ),
      400,
      'Request_BadRequest',
      unknown('priority', 'onOtpSendCustomExtension'),
    )
    expectGraphError(
      await call('POST', '/v1.0/applications', { displayName: 'x', tokenVersion: 2 }),
      400,
      'Request_BadRequest',
      unknown('tokenVersion', 'application'),
    )
  })

  it('refuses properties its type lacks on service principals, app role assignments, claims mapping policies and beta extensions', async () => {
    const unknown = (name: string, type: string) =>
      new RegExp(`^The property '${name}' does not exist on type 'microsoft\\.graph\\.${type}'`)
    const app = (await call('POST', '/v1.0/applications', { displayName: 'Auth extension' })).body
    expectGraphError(
      await call('POST', '/v1.0/servicePrincipals', { appId: app.appId, enabled: true }),
      400,
      'Request_BadRequest',
      unknown('enabled', 'servicePrincipal'),
    )
    const sp = (await call('POST', '/v1.0/servicePrincipals', { appId: app.appId })).body
    expectGraphError(
      await call('PATCH', `/v1.0/servicePrincipals/${sp.id}`, { disabled: false }),
      400,
      'Request_BadRequest',
      unknown('disabled', 'servicePrincipal'),
    )
    expectGraphError(
      await call('POST', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignments`, {
        principalId: sp.id,
        resourceId: graphSp().id,
        appRoleId: RECEIVE_PAYLOAD_ROLE_ID,
        scope: '/',
      }),
      400,
      'Request_BadRequest',
      unknown('scope', 'appRoleAssignment'),
    )
    const definition = [
      JSON.stringify({ ClaimsMappingPolicy: { Version: 1, IncludeBasicClaimSet: 'true' } }),
    ]
    expectGraphError(
      await call('POST', '/v1.0/policies/claimsMappingPolicies', {
        displayName: 'p',
        definition,
        priority: 1,
      }),
      400,
      'Request_BadRequest',
      unknown('priority', 'claimsMappingPolicy'),
    )
    const policy = await call('POST', '/v1.0/policies/claimsMappingPolicies', {
      displayName: 'p',
      definition,
    })
    expect(policy.status).toBe(201)
    expectGraphError(
      await call('PATCH', `/v1.0/policies/claimsMappingPolicies/${policy.body.id}`, {
        appliesTo: [],
      }),
      400,
      'Request_BadRequest',
      unknown('appliesTo', 'claimsMappingPolicy'),
    )
    // A beta call is checked against beta's list of the extension's properties.
    await authEventsSp()
    expectGraphError(
      await call(
        'POST',
        '/beta/identity/customAuthenticationExtensions',
        extensionBody(app.appId, TOKEN_TYPE, { priority: 1 }),
      ),
      400,
      'Request_BadRequest',
      unknown('priority', 'onTokenIssuanceStartCustomExtension'),
    )
  })

  it('item 5: upserts an application by uniqueName: 201 with it when absent, 204 when present', async () => {
    const path = "/v1.0/applications(uniqueName='ext-contoso')"
    const prefer = { prefer: 'create-if-missing' }
    // Without the header a PATCH is an update: 404 when absent.
    expectGraphError(
      await call('PATCH', path, { displayName: 'Ext' }),
      404,
      'Request_ResourceNotFound',
    )
    const created = await call('PATCH', path, { displayName: 'Ext' }, token, prefer)
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      '@odata.context': `${graph.origin}/v1.0/$metadata#applications/$entity`,
      displayName: 'Ext',
      uniqueName: 'ext-contoso',
      appId: expect.any(String),
    })
    const updated = await call('PATCH', path, { displayName: 'Ext 2' }, token, prefer)
    expect(updated.status).toBe(204)
    expect(updated.body).toBeUndefined()
    expect(graph.state.applications).toHaveLength(1)
    expect(graph.state.applications[0]).toMatchObject({ id: created.body.id, displayName: 'Ext 2' })
    expectGraphError(
      await call(
        'PATCH',
        "/v1.0/applications(uniqueName='other')",
        { displayName: 'x', uniqueName: 'else' },
        token,
        prefer,
      ),
      400,
      'Request_BadRequest',
    )
  })

  it('answers unknown segments, methods and bodies as Graph does, and records every request', async () => {
    expectGraphError(
      await call('GET', '/v1.0/identity/conditionalAccess'),
      400,
      'BadRequest',
      /Resource not found for the segment 'conditionalAccess'/,
    )
    const method = await call('PUT', '/v1.0/applications', { displayName: 'x' })
    expect(method.status).toBe(405)
    expect(method.headers.get('allow')).toBe('GET, POST')
    expect(method.body.error.innerError['request-id']).toBe(method.headers.get('request-id'))
    const res = await fetch(`${graph.origin}/v1.0/applications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{"displayName":',
    })
    expect(res.status).toBe(400)
    expectGraphError(
      await call('GET', '/v1.0/applications?$expand=owners'),
      400,
      'Request_UnsupportedQuery',
    )
    await call('POST', '/v1.0/applications', { displayName: 'Recorded' })
    await call('GET', `/v1.0/applications(appId=%27${CLIENT_APP}%27)?$select=id`)
    expect(graph.requests.slice(-2)).toEqual([
      {
        method: 'POST',
        path: '/v1.0/applications',
        query: '',
        status: 201,
        body: { displayName: 'Recorded' },
      },
      {
        method: 'GET',
        path: `/v1.0/applications(appId='${CLIENT_APP}')`,
        query: '$select=id',
        status: 404,
      },
    ])
    expect(graph.writes().map((r) => `${r.method} ${r.status}`)).toEqual([
      'PUT 405',
      'POST 400',
      'POST 201',
    ])
  })
})

describe('entra graph stand-in: OnPasswordSubmit (beta only), key credentials, extension properties', () => {
  const PASSWORD_TYPE = '#microsoft.graph.onPasswordSubmitCustomExtension'

  it('knows the preview extension on beta only: v1.0 refuses it and leaves it out', async () => {
    const { app } = await registeredApp()
    await authEventsSp()
    const body = extensionBody(String(app.appId), PASSWORD_TYPE)
    expectGraphError(
      await call('POST', '/v1.0/identity/customAuthenticationExtensions', body),
      400,
      'Request_BadRequest',
      /could not be resolved by the model/,
    )
    const created = await call('POST', '/beta/identity/customAuthenticationExtensions', body)
    expect(created.status).toBe(201)
    const v1 = await call('GET', '/v1.0/identity/customAuthenticationExtensions')
    expect(v1.body.value).toEqual([])
    const beta = await call('GET', '/beta/identity/customAuthenticationExtensions')
    expect(beta.body.value.map((e: GraphObject) => e.id)).toEqual([created.body.id])
    expectGraphError(
      await call('GET', `/v1.0/identity/customAuthenticationExtensions/${created.body.id}`),
      404,
      'Request_ResourceNotFound',
    )
  })

  it('names extension properties extension_{appId}_{name}, and refuses a duplicate', async () => {
    const app = (await call('POST', '/v1.0/applications', { displayName: 'b2c-extensions-app' }))
      .body
    const body = { name: 'toBeMigrated', dataType: 'Boolean', targetObjects: ['User'] }
    const made = await call('POST', `/v1.0/applications/${app.id}/extensionProperties`, body)
    expect(made.status).toBe(201)
    expect(made.body.name).toBe(`extension_${String(app.appId).replace(/-/g, '')}_toBeMigrated`)
    expectGraphError(
      await call('POST', `/v1.0/applications/${app.id}/extensionProperties`, body),
      400,
      'Request_MultipleObjectsWithSameKeyValue',
    )
    const listed = await call('GET', `/v1.0/applications/${app.id}/extensionProperties`)
    expect(listed.body.value).toHaveLength(1)
  })

  it('checks key credentials and tokenEncryptionKeyId, and answers keys only on a $select', async () => {
    const app = (await call('POST', '/v1.0/applications', { displayName: 'Auth extension' })).body
    const keyId = randomUUID()
    expectGraphError(
      await call('PATCH', `/v1.0/applications/${app.id}`, { tokenEncryptionKeyId: keyId }),
      400,
      'Request_BadRequest',
      /names no keyCredential/,
    )
    expectGraphError(
      await call('PATCH', `/v1.0/applications/${app.id}`, {
        keyCredentials: [
          { keyId, type: 'AsymmetricX509Cert', usage: 'Encrypt', key: 'bm90IGEgY2VydA==' },
        ],
      }),
      400,
      'Request_BadRequest',
      /not a base64 DER X\.509 certificate/,
    )
    const { encryptionCertificate } = await import('./registration/certificates.js')
    const { certificate } = await encryptionCertificate()
    const ok = await call('PATCH', `/v1.0/applications/${app.id}`, {
      keyCredentials: [
        { keyId, type: 'AsymmetricX509Cert', usage: 'Encrypt', key: certificate.derBase64 },
      ],
      tokenEncryptionKeyId: keyId,
    })
    expect(ok.status).toBe(204)
    const plain = await call('GET', `/v1.0/applications/${app.id}`)
    expect(plain.body.keyCredentials).toEqual([
      expect.objectContaining({
        keyId,
        key: null,
        customKeyIdentifier: certificate.customKeyIdentifier,
      }),
    ])
    const selected = await call('GET', `/v1.0/applications/${app.id}?$select=keyCredentials`)
    expect((selected.body.keyCredentials as { key: string }[])[0]?.key).toBe(certificate.derBase64)
  })
})
