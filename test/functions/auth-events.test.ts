// The Azure Functions adapter, driven with the library's own test constructors (HttpRequest,
// InvocationContext) against a real loopback issuer: the same answers as the local host.
import { HttpRequest, InvocationContext } from '@azure/functions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventHandler, healthHandler, startEndpoint } from '../../functions/endpoint-handlers.js'
import { capturingLogger, type LogLine } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { EXTENSION_APP_ID, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await startTestIssuer()
})
afterAll(() => issuer.close())

function invocation(lines: string[]) {
  return new InvocationContext({
    functionName: 'onTokenIssuanceStart',
    logHandler: (level, ...args) => lines.push(`${level} ${args.map(String).join(' ')}`),
  })
}

function request(token: string | undefined, body: unknown, method = 'POST') {
  return new HttpRequest({
    method,
    url: 'http://localhost:7071/api/onTokenIssuanceStart',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    ...(method === 'POST' ? { body: { string: JSON.stringify(body) } } : {}),
  })
}

describe('functions/ adapter', () => {
  it('answers an authenticated OnTokenIssuanceStart with 200 and the claims', async () => {
    const endpoint = startEndpoint({
      ENTRA_TENANT_ID: issuer.tenantId,
      ENTRA_AUDIENCE: EXTENSION_APP_ID,
      ENTRA_ISSUER: issuer.issuer,
    })
    await endpoint.warmedUp
    const lines: string[] = []
    const res = await eventHandler(endpoint, 'onTokenIssuanceStart')(
      request(await issuer.mint(), fixture('token-issuance-start')),
      invocation(lines),
    )
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body as string)).toMatchObject({
      data: { actions: [{ claims: { apiVersion: '1.0.0' } }] },
    })
    expect(lines.some((line) => line.includes('"event":"auth_event"'))).toBe(true)
    const health = new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/health' })
    expect((await healthHandler(endpoint)(health)).status).toBe(200)
  })

  it('answers 401 with the Bearer challenge and 405 through the same pipeline', async () => {
    const endpoint = startEndpoint({
      ENTRA_TENANT_ID: issuer.tenantId,
      ENTRA_AUDIENCE: EXTENSION_APP_ID,
      ENTRA_ISSUER: issuer.issuer,
    })
    const handler = eventHandler(endpoint, 'onTokenIssuanceStart')
    const unauthenticated = await handler(
      request(undefined, fixture('token-issuance-start')),
      invocation([]),
    )
    expect(unauthenticated.status).toBe(401)
    expect(unauthenticated.headers).toMatchObject({ 'www-authenticate': 'Bearer' })
    expect((await handler(request(undefined, undefined, 'GET'), invocation([]))).status).toBe(405)
  })

  it('does not throw on a bad configuration: logs each problem and answers 500 ERR_CONFIG_INVALID', async () => {
    const logs: LogLine[] = []
    const secret = 'not-a-guid-secret'
    const endpoint = startEndpoint({ ENTRA_TENANT_ID: secret }, capturingLogger(logs))
    const res = await eventHandler(endpoint, 'onTokenIssuanceStart')(
      request(await issuer.mint(), fixture('token-issuance-start')),
      invocation([]),
    )
    expect(res.status).toBe(500)
    expect(JSON.parse(res.body as string)).toEqual({
      error: {
        code: 'ERR_CONFIG_INVALID',
        message: "the endpoint's configuration is invalid; see its logs",
      },
    })
    expect(
      logs.filter((l) => l.event === 'configuration_invalid').map((l) => l.fields.problem),
    ).toEqual(['ENTRA_TENANT_ID: must be a GUID', 'ENTRA_AUDIENCE: is required'])
    expect(JSON.stringify(logs)).not.toContain(secret)
    const health = await healthHandler(endpoint)(
      new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/health' }),
    )
    expect(health.status).toBe(503)
    expect(JSON.parse(health.body as string)).toEqual({ status: 'unavailable' })
  })

  it('registers its functions at import without throwing, even with no configuration', async () => {
    await expect(import('../../functions/auth-events.js')).resolves.toBeDefined()
  })
})
