// Finding 5 of the security review: OnOtpSend scaled out. Two real local hosts share one Azurite
// table (OTP_STORE_CONNECTION_STRING) and one SMTP stand-in, with no LOG_HASH_KEY (what
// infra/main.bicep deploys unless the operator sets one). The duplicate check must work across
// them, and the per-recipient rate limit must count every instance's sends once, not N times.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { TableClient } from '@azure/data-tables'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startAzurite, type Azurite } from '../support/azurite.js'
import {
  startTestEndpoint,
  writeExtensionConfig,
  type TestEndpoint,
  type TestResponse,
} from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { startSmtpServer, type SmtpStandIn } from '../support/smtp-server.js'

const TABLE = 'otpscaleout'
const LIMIT = 3
const WINDOW_SECONDS = 600

let issuer: TestIssuer
let smtp: SmtpStandIn
let azurite: Azurite
const endpoints: TestEndpoint[] = []

beforeAll(async () => {
  issuer = await startTestIssuer()
  smtp = await startSmtpServer()
  azurite = await startAzurite()
})
afterAll(async () => {
  await azurite.stop()
  await smtp.close()
  await issuer.close()
})
beforeEach(() => {
  smtp.reset()
})

async function instance(connectionString: string): Promise<TestEndpoint> {
  const endpoint = await startTestEndpoint(issuer, {
    EXTENSION_CONFIG: writeExtensionConfig({
      otpSend: { rateLimit: { maxPerRecipient: LIMIT, windowSeconds: WINDOW_SECONDS } },
    }),
    MAIL_PROVIDER: 'smtp',
    MAIL_FROM: 'no-reply@contoso.example',
    SMTP_URL: smtp.url,
    OTP_STORE_CONNECTION_STRING: connectionString,
    OTP_STORE_TABLE: TABLE,
    REQUEST_BUDGET_MS: '1500',
  })
  endpoints.push(endpoint)
  return endpoint
}

let codes = 60_000_000
/** A fresh code (each call is its own message) to `recipient`. */
function otpEvent(recipient: string, code = String(++codes)) {
  const event = fixture('otp-send')
  event.data.otpContext.identifier = recipient
  event.data.otpContext.oneTimeCode = code
  return event
}
const errorCode = (res: TestResponse) => (res.json as { error?: { code?: string } }).error?.code
const eventsOf = (endpoint: TestEndpoint, event: string) =>
  endpoint.logs.filter((line) => line.event === event).map((line) => line.fields)

describe('finding 5: two instances, one table, one SMTP server, no LOG_HASH_KEY', () => {
  let a: TestEndpoint
  let b: TestEndpoint
  beforeAll(async () => {
    // Started together: both race to create the table's key on their first use.
    ;[a, b] = await Promise.all([
      instance(azurite.connectionString),
      instance(azurite.connectionString),
    ])
  })
  afterAll(async () => {
    await a.close()
    await b.close()
  })

  it('finding 5: a retry landing on another instance sends no second mail', async () => {
    const event = otpEvent('retry.elsewhere@example.org')
    const first = await a.post('onOtpSend', event)
    expect(first.status, first.text).toBe(200)
    const retry = await b.post('onOtpSend', event)
    expect(retry.status, retry.text).toBe(200)
    expect(smtp.messages).toHaveLength(1)
    expect(eventsOf(b, 'otp_duplicate').at(-1)).toMatchObject({ state: 'sent' })
  })

  it('finding 5: a burst of one call split across two instances sends one mail', async () => {
    const event = otpEvent('burst.split@example.org')
    const answers = await Promise.all([a, b, a, b].map((e) => e.post('onOtpSend', event)))
    expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200])
    expect(smtp.messages).toHaveLength(1)
  })

  it('finding 5: sends alternating between instances stop at the limit, not at twice it', async () => {
    const recipient = 'alternating@example.org'
    const statuses: number[] = []
    for (let i = 0; i < 2 * LIMIT; i += 1) {
      const res = await [a, b][i % 2]!.post('onOtpSend', otpEvent(recipient))
      statuses.push(res.status)
      if (res.status === 429) expect(errorCode(res)).toBe('ERR_RATE_LIMITED')
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429])
    expect(smtp.messages).toHaveLength(LIMIT)
    expect(eventsOf(b, 'otp_rate_limited').length).toBeGreaterThan(0)
    expect(eventsOf(a, 'otp_rate_limited').length).toBeGreaterThan(0)

    // The window is shared too: once it has passed (both clocks moved, no sleeping), one more.
    a.clockOffsetMs += WINDOW_SECONDS * 1000
    b.clockOffsetMs += WINDOW_SECONDS * 1000
    try {
      expect((await b.post('onOtpSend', otpEvent(recipient))).status).toBe(200)
      expect(smtp.messages).toHaveLength(LIMIT + 1)
    } finally {
      a.clockOffsetMs -= WINDOW_SECONDS * 1000
      b.clockOffsetMs -= WINDOW_SECONDS * 1000
    }
  })

  it('finding 5: a concurrent burst of codes split across instances is held to the limit', async () => {
    const recipient = 'concurrent.codes@example.org'
    const answers = await Promise.all(
      Array.from({ length: 4 * LIMIT }, (_, i) =>
        [a, b][i % 2]!.post('onOtpSend', otpEvent(recipient)),
      ),
    )
    const sent = answers.filter((res) => res.status === 200).length
    // Never more than the limit, whatever the interleaving; a send that loses every ETag race
    // counts as over the limit, so fewer is possible under contention, never more.
    expect(sent).toBeGreaterThanOrEqual(1)
    expect(sent).toBeLessThanOrEqual(LIMIT)
    expect(smtp.messages).toHaveLength(sent)
    for (const res of answers.filter((r) => r.status !== 200)) {
      expect(res.status, res.text).toBe(429)
      expect(errorCode(res)).toBe('ERR_RATE_LIMITED')
    }
  })

  it('finding 5: the shared key is one row of the table, made once, and never logged', async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, TABLE, {
      allowInsecureConnection: true,
    })
    const keyRows: Record<string, unknown>[] = []
    for await (const row of table.listEntities({
      queryOptions: { filter: "PartitionKey eq 'config'" },
    }))
      keyRows.push(row)
    expect(keyRows).toHaveLength(1)
    const key = keyRows[0]?.key
    expect(typeof key).toBe('string')
    expect(Buffer.from(key as string, 'base64')).toHaveLength(32)
    const logs = JSON.stringify([a.logs, b.logs])
    expect(logs).not.toContain(key as string)
    expect(logs).not.toContain(Buffer.from(key as string, 'base64').toString('hex'))
    expect(logs).not.toContain('@example.org')
  })
})

describe('finding 5: a store that does not answer when the instance starts', () => {
  let hole: Server
  const sockets = new Set<Socket>()
  let endpoint: TestEndpoint
  beforeAll(async () => {
    // Accepts connections and never answers: the shared key cannot be read.
    hole = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    const { port } = hole.address() as AddressInfo
    endpoint = await instance(
      azurite.connectionString.replace(
        /TableEndpoint=[^;]+/,
        `TableEndpoint=http://127.0.0.1:${port}/devstoreaccount1`,
      ),
    )
  })
  afterAll(async () => {
    await endpoint.close()
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => hole.close(() => resolve()))
  })

  it('finding 5: fails open for the call (the code is sent) and logs that the key was unavailable', async () => {
    const res = await endpoint.post('onOtpSend', otpEvent('cold.start@example.org'))
    expect(res.status, res.text).toBe(200)
    expect(smtp.messages).toHaveLength(1)
    expect(eventsOf(endpoint, 'otp_store_unavailable')).toContainEqual({
      operation: 'key',
      reason: expect.any(String),
    })
  })
})
