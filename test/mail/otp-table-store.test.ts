// The OnOtpSend duplicate check shared by instances on Azure Table Storage (Azurite), end to end:
// two real local hosts with the same OTP_STORE_CONNECTION_STRING and LOG_HASH_KEY, SendGrid
// behind both. Entra's retry that reaches another instance finds the code sent (or being sent) and
// sends nothing; after a failure it sends; rows hold digests, not addresses or codes; and a store
// that goes away fails open (the code is still sent, the log says so).
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { TableClient } from '@azure/data-tables'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { startAzurite, type Azurite } from '../support/azurite.js'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type LogLine,
  type TestEndpoint,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { craftToken, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { startManagedIdentity, type ManagedIdentityStandIn } from '../support/managed-identity.js'
import { startSendGridApi, type SendGridStandIn } from '../support/sendgrid-api.js'

const ADDRESS = 'avery@example.org' // the fixture's recipient
const CODE = '48213907' // the fixture's code
const FROM = 'no-reply@contoso.example'
const LOG_HASH_KEY = 'otp-table-store-shared-key-0123456789'
const TABLE = 'otpsendstest'
const ROOMY_LIMIT = { maxPerRecipient: 1000, windowSeconds: 600 }

let issuer: TestIssuer
let sendgrid: SendGridStandIn
let azurite: Azurite

const allLogs: LogLine[][] = []
const codes = new Set<string>([CODE])
let codeCount = 0
function freshCode(): string {
  codeCount += 1
  const code = String(55_000_000 + codeCount * 1_021)
  codes.add(code)
  return code
}

beforeAll(async () => {
  issuer = await startTestIssuer()
  sendgrid = await startSendGridApi()
  azurite = await startAzurite()
})
afterAll(async () => {
  await azurite.stop()
  await sendgrid.close()
  await issuer.close()
})
beforeEach(() => {
  sendgrid.reset()
})

async function instance(
  connectionString: string,
  store: Record<string, string> = { OTP_STORE_CONNECTION_STRING: connectionString },
): Promise<TestEndpoint> {
  const endpoint = await startTestEndpoint(issuer, {
    EXTENSION_CONFIG: writeExtensionConfig({ otpSend: { rateLimit: ROOMY_LIMIT } }),
    MAIL_PROVIDER: 'sendgrid',
    MAIL_FROM: FROM,
    SENDGRID_BASE_URL: sendgrid.baseUrl,
    SENDGRID_API_KEY: sendgrid.apiKey,
    ...store,
    OTP_STORE_TABLE: TABLE,
    LOG_HASH_KEY,
    REQUEST_BUDGET_MS: '1500',
  })
  allLogs.push(endpoint.logs)
  return endpoint
}

type OtpEvent = ReturnType<typeof fixture>
function post(endpoint: TestEndpoint, code: string, edit?: (event: OtpEvent) => void) {
  const event = fixture('otp-send')
  event.data.otpContext.oneTimeCode = code
  edit?.(event)
  return endpoint.post('onOtpSend', event)
}
const lastLog = (endpoint: TestEndpoint, event: string) =>
  endpoint.logs.filter((line) => line.event === event).at(-1)?.fields

describe('two instances sharing the table', () => {
  let a: TestEndpoint
  let b: TestEndpoint
  beforeAll(async () => {
    a = await instance(azurite.connectionString)
    b = await instance(azurite.connectionString)
  })
  afterAll(async () => {
    await a.close()
    await b.close()
  })

  it('Entra’s retry on another instance sends nothing: A then B, one message, both 200', async () => {
    const first = await post(a, CODE)
    expect(first.status, first.text).toBe(200)
    const retry = await post(b, CODE)
    expect(retry.status, retry.text).toBe(200)
    expect(retry.json).toEqual(first.json)
    expect(sendgrid.messages).toHaveLength(1)
    expect(sendgrid.requests).toHaveLength(1)
    expect(lastLog(a, 'otp_sent')).toMatchObject({ provider: 'sendgrid' })
    expect(lastLog(b, 'otp_duplicate')).toMatchObject({ provider: 'sendgrid', state: 'sent' })
    expect(lastLog(b, 'otp_sent')).toBeUndefined()
  })

  it('a failure on A, then the retry on B: B sends (one message)', async () => {
    const code = freshCode()
    sendgrid.fault({ kind: 'status', status: 503 }, { times: 1 })
    const first = await post(a, code)
    expect(first.status, first.text).toBe(503)
    expect(lastLog(a, 'otp_send_failed')).toMatchObject({ providerStatus: 503 })
    const retry = await post(b, code)
    expect(retry.status, retry.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
    expect(sendgrid.requests.map((r) => r.status)).toEqual([503, 202])
    // The same LOG_HASH_KEY: both instances name the recipient alike.
    expect(lastLog(b, 'otp_sent')?.recipient).toMatch(/^[0-9a-f]{16}$/)
    expect(lastLog(b, 'otp_sent')?.recipient).toBe(lastLog(a, 'otp_send_failed')?.recipient)
    // And a third try, on A again, finds it sent.
    expect((await post(a, code)).status).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
  })

  it('concurrent calls on A and B: one waits for the other’s send, one message, both 200', async () => {
    const code = freshCode()
    // A slow accept keeps the first claim pending while the other instance arrives.
    sendgrid.fault({ kind: 'slow', delayMs: 300 }, { times: 1 })
    const answers = await Promise.all([post(a, code), post(b, code)])
    expect(answers.map((res) => res.status)).toEqual([200, 200])
    expect(sendgrid.messages).toHaveLength(1)
    expect(sendgrid.requests).toHaveLength(1)
  })

  it('different codes are different messages, wherever they arrive', async () => {
    expect((await post(a, freshCode())).status).toBe(200)
    expect((await post(b, freshCode())).status).toBe(200)
    expect(sendgrid.messages).toHaveLength(2)
  })

  it('the rows hold digests, a state and an expiry: no address and no code', async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, TABLE, {
      allowInsecureConnection: true,
    })
    const rows: Record<string, unknown>[] = []
    for await (const row of table.listEntities()) rows.push(row)
    const json = JSON.stringify(rows)
    expect(json).not.toContain(ADDRESS)
    expect(json.toLowerCase()).not.toContain('avery')
    expect(json).not.toContain('example.org')
    for (const code of codes) expect(json).not.toContain(code)
    // The duplicate check's rows: a digest of recipient and code, a state and an expiry.
    const messages = rows.filter((row) => !String(row.partitionKey).startsWith('rate-'))
    expect(messages.length).toBeGreaterThanOrEqual(4)
    for (const row of messages) {
      expect(Object.keys(row).sort()).toEqual([
        'etag',
        'expiresAt',
        'partitionKey',
        'rowKey',
        'state',
        'timestamp',
      ])
      expect(row.rowKey).toMatch(/^[0-9a-f]{64}$/)
      expect(row.state).toBe('sent')
    }
    // The shared rate limit's: a digest of the recipient, send times and an expiry. (No key row:
    // LOG_HASH_KEY keys the rows here.)
    const rates = rows.filter((row) => String(row.partitionKey).startsWith('rate-'))
    expect(rates).toHaveLength(1)
    for (const row of rates) {
      expect(Object.keys(row).sort()).toEqual([
        'etag',
        'expiresAt',
        'partitionKey',
        'rowKey',
        'sends',
        'timestamp',
      ])
      expect(row.rowKey).toMatch(/^[0-9a-f]{16}$/)
      expect(row.sends).toMatch(/^\d{13}(,\d{13})*$/)
    }
  })
})

describe('by endpoint with the managed identity (OTP_STORE_ENDPOINT)', () => {
  // Azurite over https with --oauth basic: it reads the bearer token's issuer, audience and
  // lifetime (not its signature), so the identity stand-in hands out JWT-shaped tokens.
  const IDENTITY_CLIENT_ID = '0d0d0d0d-0000-4000-8000-00000000c1d0'
  let store: Azurite
  let identity: ManagedIdentityStandIn
  let restoreEnvironment: () => void
  let a: TestEndpoint
  let b: TestEndpoint
  beforeAll(async () => {
    store = await startAzurite({ oauth: true })
    identity = await startManagedIdentity({
      token: (resource) => {
        const now = Math.floor(Date.now() / 1000)
        return craftToken(
          { alg: 'none', typ: 'JWT' },
          {
            aud: resource,
            iss: `https://sts.windows.net/${issuer.tenantId}/`,
            iat: now,
            nbf: now - 60,
            exp: now + 3600,
          },
        )
      },
    })
    restoreEnvironment = identity.useEnvironment()
    const env = { OTP_STORE_ENDPOINT: store.tableEndpoint, OTP_STORE_CLIENT_ID: IDENTITY_CLIENT_ID }
    a = await instance('', env)
    b = await instance('', env)
  })
  afterAll(async () => {
    await a?.close()
    await b?.close()
    restoreEnvironment?.()
    await identity?.close()
    await store?.stop()
  })

  it('shares the duplicate check through a bearer token of the identity: one message', async () => {
    const code = freshCode()
    const first = await post(a, code)
    expect(first.status, first.text).toBe(200)
    const retry = await post(b, code)
    expect(retry.status, retry.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(1)
    expect(lastLog(b, 'otp_duplicate')).toMatchObject({ state: 'sent' })
    expect(lastLog(a, 'otp_store_unavailable')).toBeUndefined()
    // The start-up check passed with the identity: health says ready.
    expect(lastLog(a, 'otp_store_ready')).toBeDefined()
    expect((await fetch(`${a.url}/api/health`)).status).toBe(200)
    // The token was asked for storage, as the user-assigned identity named.
    expect(identity.requests.length).toBeGreaterThan(0)
    for (const { query } of identity.requests) {
      expect(query.get('resource')).toBe('https://storage.azure.com')
      expect(query.get('client_id')).toBe(IDENTITY_CLIENT_ID)
    }
    // The rows are in that account's table.
    const rows: unknown[] = []
    const table = TableClient.fromConnectionString(store.connectionString, TABLE)
    for await (const row of table.listEntities()) rows.push(row)
    expect(rows.length).toBeGreaterThan(0)
  })

  it('refuses both settings at once, and an endpoint that is not https, naming the variables', () => {
    const base = { ENTRA_TENANT_ID: issuer.tenantId, ENTRA_AUDIENCE: 'api://x' }
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env })
        return []
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        return err.problems
      }
    }
    expect(
      problems({
        OTP_STORE_ENDPOINT: store.tableEndpoint,
        OTP_STORE_CONNECTION_STRING: store.connectionString,
      }),
    ).toEqual([
      'OTP_STORE_ENDPOINT, OTP_STORE_CONNECTION_STRING: set one of them, not both (the endpoint uses the managed identity)',
    ])
    const plain = problems({ OTP_STORE_ENDPOINT: 'http://127.0.0.1:10002/devstoreaccount1' })
    expect(plain).toHaveLength(1)
    expect(plain[0]).toMatch(/^OTP_STORE_ENDPOINT: /)
  })
})

describe('a table that goes away', () => {
  let store: Azurite
  let endpoint: TestEndpoint
  beforeAll(async () => {
    store = await startAzurite()
    endpoint = await instance(store.connectionString)
  })
  afterAll(async () => {
    await endpoint.close()
    await store.stop()
  })

  it('fails open: the code is still sent, and the log says the store was unavailable', async () => {
    const before = await post(endpoint, freshCode())
    expect(before.status, before.text).toBe(200)
    expect(lastLog(endpoint, 'otp_store_unavailable')).toBeUndefined()

    await store.stop()
    const started = performance.now()
    const res = await post(endpoint, freshCode())
    const elapsed = performance.now() - started
    expect(res.status, res.text).toBe(200)
    expect(sendgrid.messages).toHaveLength(2)
    expect(elapsed).toBeLessThan(1500 + 300)
    const unavailable = endpoint.logs
      .filter((line) => line.event === 'otp_store_unavailable')
      .map((line) => line.fields)
    // (The first call's markSent runs in the background and may be the first to find it gone.)
    expect(unavailable).toContainEqual({ operation: 'claim', reason: expect.any(String) })
    expect(lastLog(endpoint, 'otp_sent')).toMatchObject({ provider: 'sendgrid' })
  })
})

describe('a store that cannot be reached at start-up', () => {
  let endpoint: TestEndpoint
  beforeAll(async () => {
    // A port nothing listens on: the start-up check's call is refused.
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as AddressInfo
    await new Promise<void>((resolve) => closed.close(() => resolve()))
    endpoint = await instance(
      azurite.connectionString.replace(
        /TableEndpoint=[^;]+/,
        `TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1`,
      ),
    )
  })
  afterAll(() => endpoint.close())

  it('health is 503 otp_store_failed with the cause in the log, and codes are still sent (fail open)', async () => {
    await expect.poll(() => lastLog(endpoint, 'otp_store_failed')).toBeDefined()
    expect(lastLog(endpoint, 'otp_store_failed')).toMatchObject({
      reason: expect.any(String),
      cause: expect.any(String),
    })
    const health = await fetch(`${endpoint.url}/api/health`, {
      headers: { authorization: `Bearer ${await issuer.mint()}` },
    })
    expect(health.status).toBe(503)
    expect(await health.json()).toMatchObject({ status: 'unavailable', code: 'otp_store_failed' })
    const res = await post(endpoint, freshCode())
    expect(res.status, res.text).toBe(200)
  })
})

describe('a table that stops answering (a black hole), at the default 750 ms budget', () => {
  let hole: Server
  const sockets = new Set<Socket>()
  let endpoint: TestEndpoint
  beforeAll(async () => {
    // Accepts connections and never answers: a partitioned or badly throttled storage account.
    hole = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    const { port } = hole.address() as AddressInfo
    endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: writeExtensionConfig({ otpSend: { rateLimit: ROOMY_LIMIT } }),
      MAIL_PROVIDER: 'sendgrid',
      MAIL_FROM: FROM,
      SENDGRID_BASE_URL: sendgrid.baseUrl,
      SENDGRID_API_KEY: sendgrid.apiKey,
      OTP_STORE_CONNECTION_STRING: azurite.connectionString.replace(
        /TableEndpoint=[^;]+/,
        `TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1`,
      ),
      LOG_HASH_KEY,
      REQUEST_BUDGET_MS: '750',
    })
    allLogs.push(endpoint.logs)
    // Signing keys fetched and a token minted, without touching the store (400: no event).
    await endpoint.post('onOtpSend', {})
  })
  afterAll(async () => {
    await endpoint.close()
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => hole.close(() => resolve()))
  })

  // A store that accepts connections and never answers: the claim gets a third of the budget at
  // most, markSent runs in the background, so the e-mail goes out and Entra hears 200 in time
  // (it once heard 504 after the e-mail had gone, and sent a second one of its own).
  it('fails open within the budget: the code is sent and the answer is 200', async () => {
    const res = await post(endpoint, freshCode())
    expect(sendgrid.messages).toHaveLength(1)
    const unavailable = endpoint.logs
      .filter((line) => line.event === 'otp_store_unavailable')
      .map((line) => line.fields.operation)
    // The duplicate check and then the shared rate limit, each within its share of the budget.
    expect(unavailable).toEqual(['claim', 'rateLimit'])
    expect(res.status, res.text).toBe(200)
  })
})

describe('what the logs hold', () => {
  it('no log line of this file holds a code, the address or a storage key', () => {
    const text = JSON.stringify(allLogs)
    expect(allLogs.flat().length).toBeGreaterThan(10)
    for (const code of codes) expect(text).not.toContain(code)
    expect(text).not.toContain(ADDRESS)
    expect(text.toLowerCase()).not.toContain('avery@')
    expect(text).not.toContain(sendgrid.apiKey)
    expect(text).not.toContain('AccountKey')
    expect(text).not.toContain(azurite.connectionString.slice(0, 60))
  })
})
