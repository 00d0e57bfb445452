// The negative inventory of the caller-token check: one test per attack, each pinning status, code
// and message, through the real local host and a real loopback issuer.
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ENTRA_EVENTS_APP_ID } from '../../src/auth/verify-caller.js'
import { startTestEndpoint, type TestEndpoint, type TestResponse } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import {
  craftToken,
  createSigningKey,
  EXTENSION_APP_ID,
  IDENTIFIER_URI,
  startTestIssuer,
  TENANT_ID,
  signCompact,
  type SigningKey,
  type TestIssuer,
} from '../support/oidc-issuer.js'

let issuer: TestIssuer
let endpoint: TestEndpoint
const event = fixture('token-issuance-start')

beforeAll(async () => {
  issuer = await startTestIssuer()
  endpoint = await startTestEndpoint(issuer)
})
afterAll(async () => {
  await endpoint.close()
  await issuer.close()
})

const call = (token: string | null, headers: Record<string, string> = {}) =>
  endpoint.post('onTokenIssuanceStart', event, { token, headers })

function expectRejected(res: TestResponse, code: string, message: string, token?: string) {
  expect(res.status).toBe(401)
  expect(res.json).toEqual({ error: { code, message } })
  expect(res.headers.get('www-authenticate')).toBe(
    code === 'ERR_TOKEN_MISSING' ? 'Bearer' : 'Bearer error="invalid_token"',
  )
  if (token !== undefined) expect(res.text).not.toContain(token)
}

const now = () => Math.floor(Date.now() / 1000)
const validPayload = () => ({
  iss: issuer.issuer,
  aud: EXTENSION_APP_ID,
  tid: TENANT_ID,
  ver: '2.0',
  azp: ENTRA_EVENTS_APP_ID,
  exp: now() + 600,
})
function signingKey(): SigningKey {
  const key = issuer.keys[0]
  if (key === undefined) throw new Error('the issuer has no key')
  return key
}

describe('accepted callers', () => {
  it('accepts a v2 token from the authentication events service with 200', async () => {
    expect((await call(await issuer.mint())).status).toBe(200)
  })

  it('accepts a v1 token (appid, identifier-URI audience) with 200', async () => {
    const token = await issuer.mint({
      ver: '1.0',
      azp: undefined,
      appid: ENTRA_EVENTS_APP_ID,
      aud: IDENTIFIER_URI,
    })
    expect((await call(token)).status).toBe(200)
  })

  it('reads the Bearer scheme case-insensitively', async () => {
    const token = await issuer.mint()
    const res = await endpoint.post('onTokenIssuanceStart', event, {
      token: null,
      headers: { authorization: `bEARER ${token}` },
    })
    expect(res.status).toBe(200)
  })

  it('accepts a token expired by less than the clock tolerance', async () => {
    expect((await call(await issuer.mint({ exp: now() - 60 }))).status).toBe(200)
  })
})

describe('missing credentials', () => {
  it('rejects a call without authorization with 401 ERR_TOKEN_MISSING and a bare Bearer challenge', async () => {
    expectRejected(
      await call(null),
      'ERR_TOKEN_MISSING',
      'missing bearer token in the "authorization" header',
    )
  })

  it('rejects another scheme with 401 ERR_TOKEN_MISSING', async () => {
    const res = await call(null, { authorization: 'Basic dXNlcjpwYXNz' })
    expectRejected(
      res,
      'ERR_TOKEN_MISSING',
      'the "authorization" header must use the Bearer scheme',
    )
  })
})

describe('invalid tokens', () => {
  it('rejects a value that is not a compact JWS with 401 ERR_TOKEN_INVALID', async () => {
    expectRejected(
      await call('not-a-jwt'),
      'ERR_TOKEN_INVALID',
      'token is not a signed JWT in compact form',
    )
  })

  it('rejects an oversized token without hashing or decoding it', async () => {
    const token = `${'a'.repeat(9000)}.b.c`
    expectRejected(await call(token), 'ERR_TOKEN_INVALID', 'token exceeds 8192 characters')
  })

  it('rejects an expired token with 401 naming "exp"', async () => {
    const token = await issuer.mint({ exp: now() - 600 })
    expectRejected(
      await call(token),
      'ERR_TOKEN_INVALID',
      '"exp" claim timestamp check failed: the token has expired',
      token,
    )
  })

  it('rejects a token without "exp" with 401', async () => {
    const token = await issuer.mint({ exp: undefined })
    expectRejected(await call(token), 'ERR_TOKEN_INVALID', 'missing required "exp" claim', token)
  })

  it('rejects a token that is not yet valid with 401 naming "nbf"', async () => {
    const token = await issuer.mint({ nbf: now() + 600 })
    expectRejected(
      await call(token),
      'ERR_TOKEN_INVALID',
      '"nbf" claim timestamp check failed: the token is not yet valid',
      token,
    )
  })

  it('rejects an issuer that is not configured with 401 naming "iss"', async () => {
    const token = await issuer.mint({ iss: `https://login.microsoftonline.com/${TENANT_ID}/v2.0` })
    expectRejected(
      await call(token),
      'ERR_TOKEN_INVALID',
      '"iss" claim is not an accepted issuer',
      token,
    )
  })

  it('rejects another audience with 401 naming "aud"', async () => {
    const token = await issuer.mint({ aud: 'api://someone-else' })
    expectRejected(
      await call(token),
      'ERR_TOKEN_INVALID',
      '"aud" claim does not match this endpoint',
      token,
    )
  })

  it('rejects another tenant in "tid" with 401', async () => {
    const token = await issuer.mint({ tid: '99999999-2222-4333-8444-555555555555' })
    expectRejected(
      await call(token),
      'ERR_TOKEN_INVALID',
      '"tid" claim is not this endpoint\'s tenant',
      token,
    )
  })

  it('rejects an unknown token version with 401 naming "ver"', async () => {
    const token = await issuer.mint({ ver: '3.0' })
    expectRejected(
      await call(token),
      'ERR_TOKEN_INVALID',
      '"ver" claim must be "1.0" or "2.0"',
      token,
    )
  })

  it('rejects alg "none" with 401', async () => {
    const token = craftToken(
      { alg: 'none', kid: issuer.keys[0]?.kid },
      { iss: issuer.issuer, aud: 'x' },
      '',
    )
    expectRejected(
      await call(`${token}`),
      'ERR_TOKEN_INVALID',
      'token is not a signed JWT in compact form',
    )
    const withSignature = craftToken(
      { alg: 'none', kid: issuer.keys[0]?.kid },
      { iss: issuer.issuer },
      'AAAA',
    )
    expectRejected(await call(withSignature), 'ERR_TOKEN_INVALID', '"alg" header must be RS256')
  })

  it('rejects an HS256 token "signed" with the issuer public key as the secret (key confusion)', async () => {
    const jwk = issuer.keys[0]?.publicJwk
    const header = { alg: 'HS256', kid: jwk?.kid, typ: 'JWT' }
    const unsigned = craftToken(header, validPayload()).slice(0, -1)
    const signature = createHmac('sha256', JSON.stringify(jwk)).update(unsigned).digest('base64url')
    expectRejected(
      await call(`${unsigned}.${signature}`),
      'ERR_TOKEN_INVALID',
      '"alg" header must be RS256',
    )
  })

  it('rejects RS384 even when signed by the issuer key', async () => {
    const token = signCompact(
      { alg: 'RS384', kid: issuer.keys[0]?.kid },
      validPayload(),
      signingKey(),
      'sha384',
    )
    expectRejected(await call(token), 'ERR_TOKEN_INVALID', '"alg" header must be RS256', token)
  })

  it('rejects a tampered payload with 401 "signature verification failed"', async () => {
    const [header, , signature] = (await issuer.mint()).split('.')
    const forged = Buffer.from(JSON.stringify({ ...validPayload(), exp: now() + 86_400 })).toString(
      'base64url',
    )
    expectRejected(
      await call(`${header}.${forged}.${signature}`),
      'ERR_TOKEN_INVALID',
      'signature verification failed',
    )
  })

  it('rejects a token signed by another key under a known kid', async () => {
    const impostor = await createSigningKey(issuer.keys[0]?.kid)
    const token = await issuer.mint({}, { key: impostor })
    expectRejected(await call(token), 'ERR_TOKEN_INVALID', 'signature verification failed', token)
  })

  it('ignores an embedded "jwk" header: the attacker key is never trusted', async () => {
    const attacker = await createSigningKey('attacker-embedded')
    const token = await issuer.mint({}, { key: attacker, header: { jwk: attacker.publicJwk } })
    expectRejected(
      await call(token),
      'ERR_TOKEN_INVALID',
      '"kid" header does not match a signing key of the issuer',
      token,
    )
  })

  it('ignores "jku" and "x5u" headers: keys come only from the issuer metadata', async () => {
    const attacker = await createSigningKey('attacker-jku')
    const before = issuer.hits.jwks
    const token = await issuer.mint(
      {},
      { key: attacker, header: { jku: 'http://127.0.0.1:1/keys', x5u: 'http://127.0.0.1:1/cert' } },
    )
    expectRejected(
      await call(token),
      'ERR_TOKEN_INVALID',
      '"kid" header does not match a signing key of the issuer',
      token,
    )
    expect(issuer.hits.jwks - before).toBeLessThanOrEqual(1)
  })

  it('rejects a "crit" header with 401', async () => {
    const header = {
      alg: 'RS256',
      kid: issuer.keys[0]?.kid,
      crit: ['urn:example:policy'],
      'urn:example:policy': 1,
    }
    const token = signCompact(header, validPayload(), signingKey())
    expectRejected(await call(token), 'ERR_TOKEN_INVALID', '"crit" header is not supported', token)
  })

  it('rejects a token without "kid" with 401', async () => {
    const token = await issuer.mint({}, { header: { kid: undefined } })
    expectRejected(await call(token), 'ERR_TOKEN_INVALID', '"kid" header is missing', token)
  })
})

describe('the caller app', () => {
  it('rejects a v2 token whose azp is another app with 401 ERR_CALLER_NOT_ALLOWED', async () => {
    const token = await issuer.mint({ azp: '0f0f0f0f-1111-4222-8333-444444444444' })
    expectRejected(
      await call(token),
      'ERR_CALLER_NOT_ALLOWED',
      '"azp" claim is not the Entra authentication events service',
      token,
    )
  })

  it('rejects the docs\' "call your API directly" token (azp = the extension app itself)', async () => {
    const token = await issuer.mint({ azp: EXTENSION_APP_ID })
    expectRejected(
      await call(token),
      'ERR_CALLER_NOT_ALLOWED',
      '"azp" claim is not the Entra authentication events service',
      token,
    )
  })

  it('rejects a v2 token carrying the right appid but no azp', async () => {
    const token = await issuer.mint({ azp: undefined, appid: ENTRA_EVENTS_APP_ID })
    expectRejected(
      await call(token),
      'ERR_CALLER_NOT_ALLOWED',
      '"azp" claim is not the Entra authentication events service',
      token,
    )
  })

  it('rejects a v1 token whose appid is another app with 401 ERR_CALLER_NOT_ALLOWED', async () => {
    const token = await issuer.mint({
      ver: '1.0',
      azp: undefined,
      appid: '0f0f0f0f-1111-4222-8333-444444444444',
    })
    expectRejected(
      await call(token),
      'ERR_CALLER_NOT_ALLOWED',
      '"appid" claim is not the Entra authentication events service',
      token,
    )
  })

  it('compares the caller app exactly (no case folding)', async () => {
    const token = await issuer.mint({ azp: ENTRA_EVENTS_APP_ID.toUpperCase() })
    expectRejected(
      await call(token),
      'ERR_CALLER_NOT_ALLOWED',
      '"azp" claim is not the Entra authentication events service',
      token,
    )
  })
})

describe('authentication comes first', () => {
  it('answers 401, not 400, to a bad token with a malformed body', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', '{not json', { token: 'x.y.z' })
    expect(res.status).toBe(401)
  })

  it('answers 401, not 413, to a missing token with an oversized body', async () => {
    const res = await endpoint.post('onTokenIssuanceStart', 'x'.repeat(200_000), { token: null })
    expect(res.status).toBe(401)
  })

  it('never logs the token', async () => {
    const token = await issuer.mint({ aud: 'api://someone-else' })
    await call(token)
    expect(JSON.stringify(endpoint.logs)).not.toContain(token.split('.')[2])
  })
})
