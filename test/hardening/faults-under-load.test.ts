// Faults while the endpoint is busy, through the real local host with 10 clients in parallel:
// a signing key rotated in the middle of the load, and a required claims source that fails
// (HTTP 500, 429, a hang) and comes back. Each asserts the answers during the fault, that the
// fault never turns into a 500 or a crash, and that healthy calls succeed right after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCustomerApi, type CustomerApi } from '../support/customer-api.js'
import { startTestEndpoint, writeExtensionConfig, type TestEndpoint } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { createSigningKey, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

const CLIENTS = 10
const BUDGET_MS = 400
const event = fixture('token-issuance-start')

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await startTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

/** `CLIENTS` loops posting the event `perClient` times each; every status, in order of arrival. */
async function load(
  endpoint: TestEndpoint,
  perClient: number,
  token: () => string,
  onHalfway?: () => Promise<void>,
): Promise<number[]> {
  const statuses: number[] = []
  let sent = 0
  const total = CLIENTS * perClient
  let halfway: Promise<void> | undefined
  const client = async () => {
    for (let i = 0; i < perClient; i++) {
      sent++
      if (onHalfway !== undefined && sent === Math.floor(total / 2)) halfway = onHalfway()
      const res = await endpoint.post('onTokenIssuanceStart', event, { token: token() })
      statuses.push(res.status)
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, client))
  await halfway
  return statuses
}

const count = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {})

describe('key rotation in the middle of the load', () => {
  let endpoint: TestEndpoint
  beforeAll(async () => {
    endpoint = await startTestEndpoint(issuer, { ENTRA_KEYS_REFETCH_COOLDOWN_MS: '1000' })
  })
  afterAll(async () => endpoint.close())

  it('answers every call 200 while tokens switch to a new key, with one refetch of the key set', async () => {
    let current = await issuer.mint()
    // Made before the load, published in the middle of it: the switch itself is synchronous.
    const next = await createSigningKey()
    const nextToken = await issuer.mint({}, { key: next })
    const fetchesBefore = issuer.hits.jwks
    const statuses = await load(
      endpoint,
      30,
      () => current,
      () => {
        issuer.keys = [next, ...issuer.keys]
        endpoint.clockOffsetMs += 2000 // past the refetch cooldown
        current = nextToken
        return Promise.resolve()
      },
    )
    expect(count(statuses)).toEqual({ 200: CLIENTS * 30 })
    // Many concurrent requests named the new kid at once: they shared one fetch of the key set.
    expect(issuer.hits.jwks - fetchesBefore).toBe(1)
    const after = await endpoint.post('onTokenIssuanceStart', event, { token: current })
    expect(after.status).toBe(200)
    expect(issuer.hits.jwks - fetchesBefore).toBe(1)
  })
})

describe('a required HTTP source failing under load, then recovering', () => {
  let api: CustomerApi
  let endpoint: TestEndpoint
  beforeAll(async () => {
    api = await startCustomerApi()
    endpoint = await startTestEndpoint(issuer, {
      REQUEST_BUDGET_MS: String(BUDGET_MS),
      EXTENSION_CONFIG: writeExtensionConfig({
        tokenIssuanceStart: {
          sources: {
            hr: {
              type: 'http',
              url: `${api.origin}/employees/{user.id}`,
              timeoutMs: 250,
              policy: 'required',
            },
          },
          claims: { department: { source: 'hr', path: 'department' } },
        },
      }),
    })
  })
  afterAll(async () => {
    await endpoint.close()
    await api.close()
  })

  const cases: [string, Parameters<CustomerApi['answer']>[0], number, string][] = [
    ['HTTP 500', { kind: 'json', status: 500, body: {} }, 502, 'ERR_UPSTREAM_FAILED'],
    ['HTTP 429', { kind: 'json', status: 429, body: {} }, 502, 'ERR_UPSTREAM_FAILED'],
    ['a hang', { kind: 'hang' }, 504, 'ERR_UPSTREAM_TIMEOUT'],
  ]
  it.each(cases)(
    '%s: every call fails the same clean way, and the next healthy call is 200',
    async (_name, fault, status, code) => {
      const token = await issuer.mint()
      api.answer(fault)
      const failing = await load(endpoint, 5, () => token)
      expect(count(failing)).toEqual({ [status]: CLIENTS * 5 })
      const one = await endpoint.post('onTokenIssuanceStart', event, { token })
      expect(one.json).toMatchObject({ error: { code } })

      api.answer({ kind: 'json', body: { department: 'Research' } })
      const healthy = await load(endpoint, 3, () => token)
      expect(count(healthy)).toEqual({ 200: CLIENTS * 3 })
      const answer = await endpoint.post('onTokenIssuanceStart', event, { token })
      expect(JSON.stringify(answer.json)).toContain('"department":"Research"')
    },
  )
})
