// Signing keys against a real loopback issuer: rotation, outage after warm-up, the refetch rate
// limit, and a hung key endpoint under the request deadline. The clock is injected, never slept on.
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import {
  createSigningKeyStore,
  metadataUrl,
  type SigningKeyStore,
} from '../../src/auth/signing-keys.js'
import { createDeadlineClock } from '../../src/deadline.js'
import { silentLogger } from '../../src/log.js'
import { startTestEndpoint, type TestEndpoint } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { createSigningKey, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

let issuer: TestIssuer
let clock: number
let store: SigningKeyStore
const clock_ = createDeadlineClock()
/** A deadline far away: these calls are not about time. */
const never = clock_.start(3_600_000)

beforeEach(async () => {
  issuer = await startTestIssuer()
  clock = 1_000_000
  store = storeOnFakeClock()
  await store.warmUp()
})
afterEach(() => issuer.close())
afterAll(() => never.finish(false))

/** A store for the test issuer on the test's fake clock (30 s refetch cooldown). */
function storeOnFakeClock(): SigningKeyStore {
  return createSigningKeyStore({
    issuers: [issuer.issuer],
    timeoutMs: 2000,
    cooldownMs: 30_000,
    log: silentLogger,
    now: () => clock,
  })
}

const firstKid = () => issuer.keys[0]?.kid ?? ''

describe('signing key store', () => {
  it('fetches metadata and the key set once at warm-up and serves known keys from memory', async () => {
    expect(issuer.hits).toEqual({ metadata: 1, jwks: 1 })
    for (let i = 0; i < 20; i++) await store.keyFor(issuer.issuer, firstKid(), never)
    expect(issuer.hits).toEqual({ metadata: 1, jwks: 1 })
    expect(store.status()).toEqual([
      { issuer: issuer.issuer, keys: 1, fetchedAt: 1_000_000, lastError: undefined },
    ])
  })

  it('picks up a rotated key on the first token that names it', async () => {
    const next = await createSigningKey()
    issuer.keys = [next]
    clock += 31_000
    await expect(store.keyFor(issuer.issuer, next.kid, never)).resolves.toBeDefined()
    expect(issuer.hits.jwks).toBe(2)
  })

  it('turns a flood of unknown kids into at most one refetch per cooldown', async () => {
    clock += 31_000
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => store.keyFor(issuer.issuer, `unknown-${i}`, never)),
    )
    expect(results.every((r) => r.status === 'rejected')).toBe(true)
    expect(issuer.hits.jwks).toBe(2)
    await expect(store.keyFor(issuer.issuer, 'unknown-late', never)).rejects.toMatchObject({
      code: 'ERR_TOKEN_INVALID',
      message: '"kid" header does not match a signing key of the issuer',
    })
    expect(issuer.hits.jwks).toBe(2)
  })

  it('keeps known keys working while the key endpoint is down', async () => {
    issuer.mode = 'down'
    clock += 2 * 60 * 60 * 1000 // past the background refresh age: a refresh is tried and fails
    await expect(store.keyFor(issuer.issuer, firstKid(), never)).resolves.toBeDefined()
    await expect(store.keyFor(issuer.issuer, firstKid(), never)).resolves.toBeDefined()
  })

  it('rate-limits the background refresh of an old key set while the key endpoint fails', async () => {
    issuer.mode = 'down'
    clock += 2 * 60 * 60 * 1000
    const before = issuer.hits.metadata
    for (let i = 0; i < 50; i++) await store.keyFor(issuer.issuer, firstKid(), never)
    // the one background refresh fails (the endpoint is down) and records why
    await vi.waitFor(() =>
      expect(store.status()[0]?.lastError).toBe('key endpoint answered HTTP 503'),
    )
    for (let i = 0; i < 50; i++) await store.keyFor(issuer.issuer, firstKid(), never)
    // An unknown kid waits for any fetch in flight, so every fetch started above has landed.
    await store.keyFor(issuer.issuer, 'probe', never).catch(() => undefined)
    expect(issuer.hits.metadata - before).toBe(1)
  })

  it('keeps the known keys when the key set comes back without a usable key', async () => {
    issuer.keys = []
    clock += 31_000
    await expect(store.keyFor(issuer.issuer, 'rotated-in', never)).rejects.toMatchObject({
      code: 'ERR_KEYS_UNAVAILABLE',
    })
    expect(store.status()[0]).toMatchObject({
      keys: 1,
      lastError: 'key set has no usable RS256 key',
    })
  })

  it('answers ERR_KEYS_UNAVAILABLE (503) for an unknown kid while the key endpoint is down', async () => {
    issuer.mode = 'down'
    clock += 31_000
    await expect(store.keyFor(issuer.issuer, 'rotated-in', never)).rejects.toMatchObject({
      code: 'ERR_KEYS_UNAVAILABLE',
      status: 503,
    })
  })

  it('recovers once the key endpoint is back', async () => {
    issuer.mode = 'down'
    clock += 31_000
    await expect(store.keyFor(issuer.issuer, firstKid(), never)).resolves.toBeDefined()
    const next = await createSigningKey()
    issuer.keys = [...issuer.keys, next]
    await expect(store.keyFor(issuer.issuer, next.kid, never)).rejects.toMatchObject({
      code: 'ERR_KEYS_UNAVAILABLE',
    })
    issuer.mode = 'up'
    clock += 31_000
    await expect(store.keyFor(issuer.issuer, next.kid, never)).resolves.toBeDefined()
  })

  it('gives up on a hung key endpoint when the request deadline passes', async () => {
    issuer.mode = 'hang'
    clock += 31_000
    const deadline = clock_.start(30)
    await expect(store.keyFor(issuer.issuer, 'rotated-in', deadline)).rejects.toMatchObject({
      code: 'ERR_DEADLINE_EXCEEDED',
      status: 504,
    })
  })

  it('reports the failure in status() when the first fetch fails', async () => {
    issuer.mode = 'down'
    const cold = storeOnFakeClock()
    await cold.warmUp()
    expect(cold.status()[0]).toMatchObject({ keys: 0, lastError: 'key endpoint answered HTTP 503' })
  })

  it('finds v1 metadata on login.microsoftonline.com (contract §2)', () => {
    const tid = '11111111-2222-4333-8444-555555555555'
    expect(metadataUrl(`https://sts.windows.net/${tid}/`)).toBe(
      `https://login.microsoftonline.com/${tid}/.well-known/openid-configuration`,
    )
    expect(metadataUrl(`https://${tid}.ciamlogin.com/${tid}/v2.0`)).toBe(
      `https://${tid}.ciamlogin.com/${tid}/v2.0/.well-known/openid-configuration`,
    )
  })
})

describe('signing keys through the endpoint', () => {
  let endpoint: TestEndpoint
  beforeEach(async () => {
    endpoint = await startTestEndpoint(issuer, {
      ENTRA_KEYS_REFETCH_COOLDOWN_MS: '1000',
      REQUEST_BUDGET_MS: '300',
    })
  })
  afterEach(() => endpoint.close())
  const event = fixture('token-issuance-start')

  it('accepts tokens signed with a key rotated in mid-run, and old tokens until the key is gone', async () => {
    const oldToken = await issuer.mint()
    expect((await endpoint.post('onTokenIssuanceStart', event, { token: oldToken })).status).toBe(
      200,
    )
    const next = await createSigningKey()
    issuer.keys = [next, ...issuer.keys]
    endpoint.clockOffsetMs += 2000
    const newToken = await issuer.mint({}, { key: next })
    expect((await endpoint.post('onTokenIssuanceStart', event, { token: newToken })).status).toBe(
      200,
    )
    expect((await endpoint.post('onTokenIssuanceStart', event, { token: oldToken })).status).toBe(
      200,
    )
  })

  it('answers 503 ERR_KEYS_UNAVAILABLE, then 200 again once the key endpoint recovers', async () => {
    issuer.mode = 'down'
    const next = await createSigningKey()
    issuer.keys = [next]
    endpoint.clockOffsetMs += 2000
    const token = await issuer.mint({}, { key: next })
    const down = await endpoint.post('onTokenIssuanceStart', event, { token })
    expect(down.status).toBe(503)
    expect(down.json).toEqual({
      error: {
        code: 'ERR_KEYS_UNAVAILABLE',
        message: "the issuer's signing keys could not be fetched",
      },
    })
    issuer.mode = 'up'
    endpoint.clockOffsetMs += 2000
    expect((await endpoint.post('onTokenIssuanceStart', event, { token })).status).toBe(200)
  })

  it('reports health 503 with the reason until the keys are fetched, then 200', async () => {
    const cold = await startTestIssuer()
    cold.mode = 'down'
    const late = await startTestEndpoint(cold, { ENTRA_KEYS_REFETCH_COOLDOWN_MS: '1000' })
    try {
      const before = await fetch(`${late.url}/api/health`)
      expect(before.status).toBe(503)
      // Anonymous callers learn only the status; the reason is in the log (test/http/health.test.ts).
      expect(await before.json()).toEqual({ status: 'unavailable' })
      expect(late.logs).toContainEqual({
        level: 'warn',
        event: 'health_unavailable',
        fields: { reason: 'key endpoint answered HTTP 503' },
      })
      cold.mode = 'up'
      late.clockOffsetMs += 2000
      expect(
        (await late.post('onTokenIssuanceStart', event, { token: await cold.mint() })).status,
      ).toBe(200)
      const after = await fetch(`${late.url}/api/health`, {
        headers: { authorization: `Bearer ${await cold.mint()}` },
      })
      expect(after.status).toBe(200)
      expect(await after.json()).toEqual({
        status: 'ok',
        issuers: [{ issuer: cold.issuer, keys: 1 }],
      })
    } finally {
      await late.close()
      await cold.close()
    }
  })

  it('answers 504 within the request budget when the key endpoint hangs on a refetch', async () => {
    issuer.mode = 'hang'
    endpoint.clockOffsetMs += 2000
    const stranger = await createSigningKey()
    const res = await endpoint.post('onTokenIssuanceStart', event, {
      token: await issuer.mint({}, { key: stranger }),
    })
    expect(res.status).toBe(504)
    expect(res.json).toMatchObject({ error: { code: 'ERR_DEADLINE_EXCEEDED' } })
  })
})
