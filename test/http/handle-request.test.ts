// The request pipeline through the real local host: each step's status, code and message, and the
// answers Entra gets for every event. Error bodies are always { error: { code, message } }.
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestEndpoint, type TestEndpoint, type TestResponse } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

let issuer: TestIssuer
let endpoint: TestEndpoint

beforeAll(async () => {
  issuer = await startTestIssuer()
  endpoint = await startTestEndpoint(issuer, {
    LIMIT_BODY_BYTES: '65536',
    REQUEST_BUDGET_MS: '400',
  })
})
afterAll(async () => {
  await endpoint.close()
  await issuer.close()
})

function expectError(res: TestResponse, status: number, code: string, message?: string) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
  expect(res.json).toEqual({ error: { code, message: message ?? expect.any(String) } })
}

const tokenEvent = () => fixture('token-issuance-start')

describe('method, media type and size', () => {
  it('answers 405 with Allow: POST to a GET', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', undefined, { method: 'GET' })
    expectError(res, 405, 'ERR_METHOD_NOT_ALLOWED', 'only POST is allowed')
    expect(res.headers.get('allow')).toBe('POST')
  })

  it('answers 405 with Allow: GET to a POST on the health route', async () => {
    const res = await endpoint.post('health', {})
    expectError(res, 405, 'ERR_METHOD_NOT_ALLOWED', 'only GET is allowed')
    expect(res.headers.get('allow')).toBe('GET')
  })

  it('answers 415 to a body that is not declared application/json', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', tokenEvent(), {
      headers: { 'content-type': 'text/plain' },
    })
    expectError(res, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE', '"content-type" must be application/json')
  })

  it('answers 415 to a JSON body in another charset', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', tokenEvent(), {
      headers: { 'content-type': 'application/json; charset=iso-8859-1' },
    })
    expectError(res, 415, 'ERR_UNSUPPORTED_MEDIA_TYPE')
  })

  it('accepts application/json with a UTF-8 charset', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', tokenEvent(), {
      headers: { 'content-type': 'Application/JSON; charset=UTF-8' },
    })
    expect(res.status).toBe(200)
  })

  it('answers 413 to a declared Content-Length over the limit', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', 'x'.repeat(70_000))
    expectError(res, 413, 'ERR_BODY_TOO_LARGE', 'body exceeds 65536 bytes')
  })

  it('answers 413 to a chunked body that streams past the limit, without reading it all', async () => {
    const chunks = 5000 // 80 MB: the test only ends early if the server stops reading
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++
        if (sent > chunks) controller.close()
        else controller.enqueue(new Uint8Array(16_384).fill(32))
      },
    })
    const res = await fetch(`${endpoint.url}/api/onTokenIssuanceStart`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await issuer.mint()}`,
        'content-type': 'application/json',
      },
      body,
      duplex: 'half',
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({
      error: { code: 'ERR_BODY_TOO_LARGE', message: 'body exceeds 65536 bytes' },
    })
    expect(sent).toBeLessThan(chunks)
  })

  it('answers 408 when the body stalls past the request budget', async () => {
    const token = await issuer.mint()
    const { port } = new URL(endpoint.url)
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1')
      let data = ''
      socket.on('data', (chunk) => (data += chunk.toString()))
      socket.on('close', () => resolve(data))
      socket.on('error', reject)
      socket.write(
        `POST /api/onTokenIssuanceStart HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n` +
          'content-type: application/json\r\ncontent-length: 100\r\n\r\n{"type":',
      )
    })
    expect(answer).toMatch(/^HTTP\/1.1 408/)
    expect(answer).toContain('"code":"ERR_REQUEST_TIMEOUT"')
  })
})

describe('JSON and event schema', () => {
  it('answers 400 ERR_MALFORMED_JSON to a body that is not JSON', async () => {
    expectError(
      await endpoint.post('onTokenIssuanceStart', '{"type":'),
      400,
      'ERR_MALFORMED_JSON',
      'the body is not valid UTF-8 JSON',
    )
  })

  it('answers 400 ERR_MALFORMED_JSON to invalid UTF-8', async () => {
    const res = await endpoint.post(
      'onTokenIssuanceStart',
      Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    )
    expectError(res, 400, 'ERR_MALFORMED_JSON')
  })

  it('answers 400 to a JSON value that is not an object', async () => {
    expectError(
      await endpoint.post('onTokenIssuanceStart', [1, 2]),
      400,
      'ERR_INVALID_REQUEST',
      'the body must be a JSON object',
    )
  })

  it('answers 400 naming "type" when it is missing', async () => {
    const event = tokenEvent()
    delete event.type
    expectError(
      await endpoint.post('onTokenIssuanceStart', event),
      400,
      'ERR_INVALID_REQUEST',
      '"type" is required',
    )
  })

  it('answers 400 ERR_UNSUPPORTED_EVENT to an unknown event type', async () => {
    const event = { ...tokenEvent(), type: 'microsoft.graph.authenticationEvent.pageRenderStart' }
    expectError(
      await endpoint.post('onTokenIssuanceStart', event),
      400,
      'ERR_UNSUPPORTED_EVENT',
      '"type" is not an event this endpoint handles',
    )
  })

  it.each([
    ['onTokenIssuanceStart', 'otp-send', 'microsoft.graph.authenticationEvent.tokenIssuanceStart'],
    [
      'onAttributeCollectionStart',
      'attribute-collection-submit',
      'microsoft.graph.authenticationEvent.attributeCollectionStart',
    ],
    [
      'onAttributeCollectionSubmit',
      'token-issuance-start',
      'microsoft.graph.authenticationEvent.attributeCollectionSubmit',
    ],
    ['onOtpSend', 'attribute-collection-start', 'microsoft.graph.authenticationEvent.emailOtpSend'],
  ] as const)(
    'answers 400 ERR_WRONG_EVENT_TYPE on %s to a %s body',
    async (route, name, expected) => {
      const res = await endpoint.post(route, fixture(name))
      expectError(res, 400, 'ERR_WRONG_EVENT_TYPE', `"type" must be "${expected}" on this route`)
    },
  )

  it('answers 400 to the old preview format (apiSchemaVersion), saying so', async () => {
    const preview = {
      type: 'onTokenIssuanceStartCustomExtension',
      apiSchemaVersion: '10-01-2021-preview',
      data: {},
    }
    expectError(
      await endpoint.post('onTokenIssuanceStart', preview),
      400,
      'ERR_UNSUPPORTED_EVENT',
      'the preview payload format ("apiSchemaVersion") is not supported',
    )
  })

  it('answers 400 naming the first bad path, without echoing the value', async () => {
    const event = tokenEvent()
    const secret = 'not-a-guid-but-a-secret'
    event.data.authenticationContext.correlationId = secret
    const res = await endpoint.post('onTokenIssuanceStart', event)
    expectError(
      res,
      400,
      'ERR_INVALID_REQUEST',
      '"data.authenticationContext.correlationId": must be a GUID',
    )
    expect(res.text).not.toContain(secret)
  })

  it('answers 400 to a string over its bound, naming the field', async () => {
    const event = tokenEvent()
    event.data.authenticationContext.user.displayName = 'x'.repeat(300)
    const res = await endpoint.post('onTokenIssuanceStart', event)
    expectError(res, 400, 'ERR_INVALID_REQUEST')
    expect((res.json as { error: { message: string } }).error.message).toMatch(
      /^"data\.authenticationContext\.user\.displayName": /,
    )
  })

  it('answers 400 to a wrong data "@odata.type"', async () => {
    const event = tokenEvent()
    event.data['@odata.type'] = 'microsoft.graph.onOtpSendCalloutData'
    const res = await endpoint.post('onTokenIssuanceStart', event)
    expectError(res, 400, 'ERR_INVALID_REQUEST')
    expect((res.json as { error: { message: string } }).error.message).toMatch(
      /^"data\.@odata\.type": /,
    )
  })

  it('reads null as absent (Graph objects carry null for unset properties)', async () => {
    const event = tokenEvent()
    event.data.authenticationContext.user.userType = null
    event.data.authenticationContext.user.companyName = null
    event.data.authenticationContext.client = null
    const res = await endpoint.post('onTokenIssuanceStart', event)
    expect(res.status).toBe(200)
    // the example configuration's default for a missing userType
    expect(res.json).toMatchObject({ data: { actions: [{ claims: { userType: 'Member' } }] } })
  })

  it('tolerates fields Microsoft adds later', async () => {
    const event = tokenEvent()
    event.newTopLevel = { anything: [1, 2, 3] }
    event.data.authenticationContext.user.employeeHireDate = '2020-01-01'
    event.data.authenticationContext.newThing = 'x'
    expect((await endpoint.post('onTokenIssuanceStart', event)).status).toBe(200)
  })

  it('survives deeply nested JSON in an unknown field', async () => {
    const event = tokenEvent()
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`
    const body = JSON.stringify(event).replace(/}$/, `,"deep":${deep}}`)
    expect((await endpoint.post('onTokenIssuanceStart', body)).status).toBe(200)
    expect((await endpoint.post('onTokenIssuanceStart', tokenEvent())).status).toBe(200)
  })

  it('answers 404 JSON to an unknown route and sets no x-powered-by', async () => {
    const res = await endpoint.post('onSomethingElse', tokenEvent())
    expectError(res, 404, 'ERR_NOT_FOUND', 'no such route')
    expect(res.headers.get('x-powered-by')).toBeNull()
  })
})

describe('the four events', () => {
  it('answers OnTokenIssuanceStart with provideClaimsForToken from the example configuration', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', tokenEvent())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.json).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onTokenIssuanceStartResponseData',
        actions: [
          {
            '@odata.type': 'microsoft.graph.tokenIssuanceStart.provideClaimsForToken',
            claims: {
              apiVersion: '1.0.0',
              appRoles: ['Reader', 'Approver'],
              correlationId: '44444444-5555-4666-8777-888888888801',
              userType: 'Member',
              preferredLanguage: 'sv-se',
            },
          },
        ],
      },
    })
  })

  it('answers OnAttributeCollectionStart with the prefill of the example configuration', async () => {
    const res = await endpoint.post(
      'onAttributeCollectionStart',
      fixture('attribute-collection-start'),
    )
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onAttributeCollectionStartResponseData',
        actions: [
          {
            '@odata.type': 'microsoft.graph.attributeCollectionStart.setPrefillValues',
            inputs: { extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b_language: 'sv-se' },
          },
        ],
      },
    })
  })

  // this fixture spells one attribute "@odata.Type" (contract §9.1)
  it('answers OnAttributeCollectionSubmit with continueWithDefaultBehavior when the rules pass', async () => {
    const res = await endpoint.post(
      'onAttributeCollectionSubmit',
      fixture('attribute-collection-submit'),
    )
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onAttributeCollectionSubmitResponseData',
        actions: [
          {
            '@odata.type': 'microsoft.graph.attributeCollectionSubmit.continueWithDefaultBehavior',
          },
        ],
      },
    })
  })

  it('answers a badly filled sign-up page with showValidationError (HTTP 200)', async () => {
    const res = await endpoint.post(
      'onAttributeCollectionSubmit',
      fixture('attribute-collection-submit-invalid'),
    )
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onAttributeCollectionSubmitResponseData',
        actions: [
          {
            '@odata.type': 'microsoft.graph.attributeCollectionSubmit.showValidationError',
            message: 'Rätta de markerade fälten.',
            attributeErrors: {
              givenName: 'Ange ditt förnamn.',
              city: 'Använd bara bokstäver.',
              extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b_interests: 'Välj från listan.',
              extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b_memberSince:
                'Ange ett årtal med fyra siffror.',
            },
          },
        ],
      },
    })
  })

  it('answers OnOtpSend with 503 ERR_NOT_CONFIGURED so that Entra can fall back', async () => {
    const res = await endpoint.post('onOtpSend', fixture('otp-send'))
    expectError(res, 503, 'ERR_NOT_CONFIGURED', 'no e-mail provider is configured for OnOtpSend')
  })

  it('writes one audit line per request with the correlation id and no personal data', async () => {
    endpoint.logs.length = 0
    const event = fixture('otp-send')
    await endpoint.post('onOtpSend', event)
    const audit = endpoint.logs.filter((line) => line.event === 'auth_event')
    expect(audit).toHaveLength(1)
    expect(audit[0]?.fields).toMatchObject({
      route: 'onOtpSend',
      status: 503,
      outcome: 'ERR_NOT_CONFIGURED',
      correlationId: '44444444-5555-4666-8777-888888888805',
    })
    const logged = JSON.stringify(endpoint.logs)
    expect(logged).not.toContain(event.data.otpContext.oneTimeCode)
    expect(logged).not.toContain(event.data.otpContext.identifier)
    expect(logged).not.toContain(event.data.authenticationContext.client.ip)
  })
})
