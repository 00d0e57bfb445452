// Finding 6 of the security and tolerance review: GET /api/health is anonymous, so it tells an
// anonymous caller only whether the endpoint is up. The tenant's issuers and the last key-fetch
// error go to the log, and to a caller with a valid Entra token, or to anyone on the local host in
// dev mode. Through the local host and the Azure Functions adapter, against a loopback issuer.
import { HttpRequest } from '@azure/functions'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { healthHandler, startEndpoint } from '../../functions/endpoint-handlers.js'
import { ENTRA_EVENTS_APP_ID } from '../../src/auth/verify-caller.js'
import { startLocalServer } from '../../src/http/local-server.js'
import {
  capturingLogger,
  startTestEndpoint,
  writeExtensionConfig,
  type LogLine,
} from '../support/endpoint.js'
import { startTokenEndpoint } from '../support/token-endpoint.js'
import { EXTENSION_APP_ID, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await startTestIssuer()
})
afterAll(() => issuer.close())

const get = async (url: string, token?: string) => {
  const res = await fetch(`${url}/api/health`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  })
  return { status: res.status, text: await res.text() }
}

describe('finding 6: anonymous health reveals neither the tenant nor the issuers nor errors', () => {
  it('answers an anonymous caller {"status":"ok"} only', async () => {
    const endpoint = await startTestEndpoint(issuer)
    try {
      const res = await get(endpoint.url)
      expect(res.status).toBe(200)
      expect(JSON.parse(res.text)).toEqual({ status: 'ok' })
      expect(res.text).not.toContain(issuer.tenantId)
    } finally {
      await endpoint.close()
    }
  })

  it('gives the details to a caller with a valid Entra token, not to one with another token', async () => {
    const endpoint = await startTestEndpoint(issuer)
    try {
      const entra = await get(endpoint.url, await issuer.mint())
      expect(JSON.parse(entra.text)).toEqual({
        status: 'ok',
        issuers: [{ issuer: issuer.issuer, keys: 1 }],
      })
      // The docs' "call your API directly" token: signed by the tenant, but not Entra's caller.
      const other = await get(endpoint.url, await issuer.mint({ azp: EXTENSION_APP_ID }))
      expect(JSON.parse(other.text)).toEqual({ status: 'ok' })
      expect(ENTRA_EVENTS_APP_ID).not.toBe(EXTENSION_APP_ID)
      const garbage = await get(endpoint.url, 'not-a-token')
      expect(JSON.parse(garbage.text)).toEqual({ status: 'ok' })
    } finally {
      await endpoint.close()
    }
  })

  it('answers 503 {"status":"unavailable"} and logs the reason once, not per probe', async () => {
    const cold = await startTestIssuer()
    cold.mode = 'down'
    const endpoint = await startTestEndpoint(cold)
    try {
      for (let probe = 0; probe < 3; probe++) {
        const res = await get(endpoint.url)
        expect(res.status).toBe(503)
        expect(JSON.parse(res.text)).toEqual({ status: 'unavailable' })
      }
      expect(endpoint.logs.filter((line) => line.event === 'health_unavailable')).toEqual([
        {
          level: 'warn',
          event: 'health_unavailable',
          fields: { reason: 'key endpoint answered HTTP 503' },
        },
      ])
    } finally {
      await endpoint.close()
      await cold.close()
    }
  })

  it('gives the details to anyone on the local host in dev mode (loopback only)', async () => {
    const lines: LogLine[] = []
    const server = await startLocalServer({
      env: { HOST: '127.0.0.1', PORT: '0' },
      log: capturingLogger(lines),
    })
    try {
      const res = await get(server.url)
      expect(res.status).toBe(200)
      expect(JSON.parse(res.text)).toMatchObject({ status: 'ok', issuers: [{ keys: 1 }] })
    } finally {
      await server.close()
    }
  })

  it('says no more than "unavailable" from the Functions adapter, even with a bad configuration', async () => {
    const request = (token?: string) =>
      new HttpRequest({
        method: 'GET',
        url: 'http://localhost:7071/api/health',
        headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      })
    const endpoint = startEndpoint({
      ENTRA_TENANT_ID: issuer.tenantId,
      ENTRA_AUDIENCE: EXTENSION_APP_ID,
      ENTRA_ISSUER: issuer.issuer,
    })
    await endpoint.warmedUp
    const anonymous = await healthHandler(endpoint)(request())
    expect(JSON.parse(anonymous.body as string)).toEqual({ status: 'ok' })
    const entra = await healthHandler(endpoint)(request(await issuer.mint()))
    expect(JSON.parse(entra.body as string)).toMatchObject({ issuers: [{ issuer: issuer.issuer }] })

    const broken = startEndpoint({ ENTRA_TENANT_ID: 'not-a-guid' }, capturingLogger([]))
    const answer = await healthHandler(broken)(request())
    expect(answer.status).toBe(503)
    expect(JSON.parse(answer.body as string)).toEqual({ status: 'unavailable' })
  })
})

describe('start-up credential checks: health is 503 while an outbound credential gives no token', () => {
  const graphSource = () =>
    writeExtensionConfig({
      tokenIssuanceStart: {
        sources: { p: { type: 'graph', query: 'user', select: ['department'] } },
        claims: { d: { source: 'p', path: 'department' } },
      },
    })

  it('a Graph client secret the token endpoint refuses: 503, the reason code, details in the log', async () => {
    const tokens = await startTokenEndpoint()
    tokens.mode = { kind: 'fail', status: 401 }
    const endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: graphSource(),
      GRAPH_BASE_URL: 'https://127.0.0.1:9', // never called: the token is asked for first
      AZURE_TENANT_ID: tokens.tenantId,
      AZURE_CLIENT_ID: tokens.clientId,
      AZURE_CLIENT_SECRET: tokens.clientSecret,
      AZURE_AUTHORITY_HOST: tokens.authorityHost,
    })
    try {
      await expect
        .poll(() => endpoint.logs.some((line) => line.event === 'graph_token_failed'))
        .toBe(true)
      // The log says why: the wrapper's words, the cause chain, and the credential library's own
      // first line (it names the token endpoint's error), not only "no access token".
      const failed = endpoint.logs.find((line) => line.event === 'graph_token_failed')?.fields
      expect(failed).toMatchObject({
        reason: 'an access token could not be obtained',
        cause: expect.stringMatching(/^OutboundError <- \w+/) as unknown,
        detail: expect.stringContaining('invalid_client') as unknown,
      })
      const anonymous = await get(endpoint.url)
      expect(anonymous.status).toBe(503)
      expect(JSON.parse(anonymous.text)).toEqual({ status: 'unavailable' })
      const entra = await get(endpoint.url, await issuer.mint())
      expect(entra.status).toBe(503)
      expect(JSON.parse(entra.text)).toMatchObject({
        status: 'unavailable',
        code: 'graph_credential_failed',
      })
      expect(entra.text).not.toContain(tokens.clientSecret)
      expect(
        endpoint.logs.filter((line) => line.event === 'health_unavailable').map((l) => l.fields),
      ).toEqual([{ reason: expect.stringMatching(/^graph_credential_failed: /) as unknown }])
      expect(JSON.stringify(endpoint.logs)).not.toContain(tokens.clientSecret)
    } finally {
      await endpoint.close()
      await tokens.close()
    }
  })

  it('the same configuration with a working credential: 200', async () => {
    const tokens = await startTokenEndpoint()
    const endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: graphSource(),
      GRAPH_BASE_URL: 'https://127.0.0.1:9',
      AZURE_TENANT_ID: tokens.tenantId,
      AZURE_CLIENT_ID: tokens.clientId,
      AZURE_CLIENT_SECRET: tokens.clientSecret,
      AZURE_AUTHORITY_HOST: tokens.authorityHost,
    })
    try {
      await expect
        .poll(() => endpoint.logs.some((line) => line.event === 'graph_token_ready'))
        .toBe(true)
      const res = await get(endpoint.url)
      expect(res.status).toBe(200)
    } finally {
      await endpoint.close()
      await tokens.close()
    }
  })
})
