// Slow and stuck clients against the real local host, over raw loopback sockets: a slow-loris on the
// headers, a trickled body, a client that stops reading its answers, hundreds of idle connections
// and one connection too many. Each is cut within its limit (small ones here, through the `limits`
// option), and a healthy client is answered promptly all along. Every loop is bounded in count and
// time; every socket and timer is cleaned up after each test.
import { connect, type Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  startLocalServer,
  type ConnectionLimits,
  type LocalServer,
} from '../../src/http/local-server.js'
import { capturingLogger, type LogLine } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import {
  EXTENSION_APP_ID,
  IDENTIFIER_URI,
  startTestIssuer,
  type TestIssuer,
} from '../support/oidc-issuer.js'

const BUDGET_MS = 500
const LIMITS = {
  headersTimeoutMs: 1_000,
  requestTimeoutMs: 2_000,
  checkIntervalMs: 100,
  keepAliveTimeoutMs: 500,
  idleTimeoutMs: 1_000,
} satisfies Partial<ConnectionLimits>
/** node:http closes a kept-alive connection this long after the keep-alive timeout it announces. */
const KEEP_ALIVE_GRACE_MS = 1_000
/** Room for a loaded 2-core machine on top of each limit, and below it (the client and the host
 * share one event loop here, so the client may notice an event late). */
const MARGIN_MS = 1_000
const EARLY_MS = 200
/** What a healthy client may wait, even while the host is under attack. */
const PROMPT_MS = 1_000

const EVENT = JSON.stringify(fixture('token-issuance-start'))

let issuer: TestIssuer
let token: string
let host: LocalServer
let logs: LogLine[]

async function startHost(limits: Partial<ConnectionLimits>, lines: LogLine[]) {
  return startLocalServer({
    env: {
      ENTRA_TENANT_ID: issuer.tenantId,
      ENTRA_AUDIENCE: `${EXTENSION_APP_ID},${IDENTIFIER_URI}`,
      ENTRA_ISSUER: issuer.issuer,
      HOST: '127.0.0.1',
      PORT: '0',
      REQUEST_BUDGET_MS: String(BUDGET_MS),
    },
    log: capturingLogger(lines),
    limits,
  })
}

beforeAll(async () => {
  issuer = await startTestIssuer()
  token = await issuer.mint()
  logs = []
  host = await startHost(LIMITS, logs)
})
afterAll(async () => {
  await host.close()
  await issuer.close()
})

const sockets = new Set<Socket>()
const timers = new Set<NodeJS.Timeout>()
afterEach(() => {
  for (const timer of timers) clearInterval(timer)
  timers.clear()
  for (const socket of sockets) socket.destroy()
  sockets.clear()
  // A slow or stuck client is never our failure: no 500, no error line.
  expect(logs.filter((l) => l.level === 'error')).toEqual([])
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const portOf = (server: LocalServer) => Number(new URL(server.url).port)

/** Calls `tick` every `ms`, at most `times` times; stopped early by `stop()` or after the test. */
function every(ms: number, times: number, tick: () => void): { stop(): void } {
  let left = times
  const timer = setInterval(() => {
    if (--left < 0) stop()
    else tick()
  }, ms)
  timers.add(timer)
  const stop = () => {
    clearInterval(timer)
    timers.delete(timer)
  }
  return { stop }
}

/** A client socket and what happened to it: what it received, when the server closed it. */
interface Watched {
  readonly socket: Socket
  readonly openedAt: number
  data: string
  closedAt: number | undefined
  error: string | undefined
  readonly connected: Promise<void>
  readonly closed: Promise<void>
}

function watch(port: number, options: { paused?: boolean } = {}): Watched {
  const socket = connect(port, '127.0.0.1')
  sockets.add(socket)
  const w: Watched = {
    socket,
    openedAt: Date.now(),
    data: '',
    closedAt: undefined,
    error: undefined,
    connected: new Promise((resolve) => socket.once('connect', () => resolve())),
    closed: new Promise((resolve) =>
      socket.once('close', () => {
        w.closedAt = Date.now()
        resolve()
      }),
    ),
  }
  socket.on('error', (err: NodeJS.ErrnoException) => (w.error = err.code ?? err.message))
  if (options.paused === true) socket.pause()
  else socket.on('data', (chunk: Buffer) => (w.data += chunk.toString('latin1')))
  return w
}

/** Resolves when `w` is closed, or rejects after `ms`. */
async function closedWithin(w: Watched, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms)
  })
  try {
    await Promise.race([w.closed, late])
  } finally {
    clearTimeout(timer)
  }
  return (w.closedAt as number) - w.openedAt
}

interface Answer {
  readonly status: number
  readonly head: string
  readonly body: string
  readonly ms: number
}

function parseAnswer(raw: string, ms: number): Answer {
  const end = raw.indexOf('\r\n\r\n')
  const head = end < 0 ? raw : raw.slice(0, end)
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
    head: head.toLowerCase(),
    body: end < 0 ? '' : raw.slice(end + 4),
    ms,
  }
}

/** One request on a fresh connection (`connection: close`), read to its end within `PROMPT_MS`. */
async function exchange(port: number, request: string): Promise<Answer> {
  const w = watch(port)
  w.socket.write(request)
  await closedWithin(w, PROMPT_MS)
  return parseAnswer(w.data, (w.closedAt as number) - w.openedAt)
}

const healthRequest = (connection = 'close') =>
  `GET /api/health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: ${connection}\r\n\r\n`

function eventHead(contentLength: number, bearer: string | null = token, connection = 'close') {
  return (
    'POST /api/onTokenIssuanceStart HTTP/1.1\r\nhost: 127.0.0.1\r\n' +
    (bearer === null ? '' : `authorization: Bearer ${bearer}\r\n`) +
    `content-type: application/json\r\ncontent-length: ${contentLength}\r\n` +
    `connection: ${connection}\r\n\r\n`
  )
}

/** A health check and an authenticated event, both answered 200 within `PROMPT_MS`. */
async function expectHealthy(server: LocalServer = host): Promise<void> {
  const port = portOf(server)
  const [health, event] = await Promise.all([
    exchange(port, healthRequest()),
    exchange(port, eventHead(Buffer.byteLength(EVENT)) + EVENT),
  ])
  expect(health.status).toBe(200)
  expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' })
  expect(event.status).toBe(200)
  expect(JSON.parse(event.body)).toMatchObject({ data: { actions: expect.any(Array) } })
  expect(Math.max(health.ms, event.ms)).toBeLessThan(PROMPT_MS)
}

/** The server's plain cut of a request that ran out of time: a bare 408, or nothing at all. */
function expectCutOff(w: Watched): void {
  expect(w.data === '' || w.data.startsWith('HTTP/1.1 408 ')).toBe(true)
}

describe('slow-loris on the headers', () => {
  it('closes 50 connections trickling their headers at the header deadline, serving others meanwhile', async () => {
    const port = portOf(host)
    const lorises = Array.from({ length: 50 }, () => watch(port))
    await Promise.all(lorises.map((w) => w.connected))
    for (const w of lorises) w.socket.write('POST /api/onTokenIssuanceStart HTTP/1.1\r\nx-slow: ')
    // One byte per socket every 150 ms: never idle, never done.
    const trickle = every(150, 40, () => {
      for (const w of lorises) if (w.closedAt === undefined) w.socket.write('a')
    })

    await sleep(150)
    await expectHealthy()
    expect(lorises.filter((w) => w.closedAt !== undefined)).toHaveLength(0)

    const lifetimes = await Promise.all(
      lorises.map((w) =>
        closedWithin(w, LIMITS.headersTimeoutMs + LIMITS.checkIntervalMs + MARGIN_MS),
      ),
    )
    trickle.stop()
    for (const w of lorises) expectCutOff(w)
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(LIMITS.headersTimeoutMs - EARLY_MS)
    await expectHealthy()
  })
})

describe('a slow body', () => {
  it('answers 408 ERR_REQUEST_TIMEOUT at the request budget and closes the connection', async () => {
    const port = portOf(host)
    const w = watch(port)
    await w.connected
    const sentAt = Date.now()
    w.socket.write(eventHead(Buffer.byteLength(EVENT), token, 'keep-alive') + EVENT.slice(0, 1))
    let i = 1
    const trickle = every(50, 60, () => {
      if (w.closedAt === undefined && i < EVENT.length - 1) w.socket.write(EVENT.slice(i, ++i))
    })

    await sleep(100)
    await expectHealthy()

    await closedWithin(w, BUDGET_MS + MARGIN_MS)
    trickle.stop()
    const answer = parseAnswer(w.data, (w.closedAt as number) - sentAt)
    expect(answer.status).toBe(408)
    expect(answer.head).toContain('connection: close')
    expect(JSON.parse(answer.body)).toEqual({
      error: {
        code: 'ERR_REQUEST_TIMEOUT',
        message: 'the body did not arrive within the request budget',
      },
    })
    expect(answer.ms).toBeGreaterThanOrEqual(BUDGET_MS - EARLY_MS)
    expect(i).toBeLessThan(EVENT.length - 1)
    await expectHealthy()
  })

  it('cuts a trickled body the endpoint refused unread (no token) at the request deadline', async () => {
    const port = portOf(host)
    const w = watch(port)
    await w.connected
    w.socket.write(eventHead(100_000, null, 'keep-alive') + '{')
    const trickle = every(50, 100, () => {
      if (w.closedAt === undefined) w.socket.write(' ')
    })

    // The 401 comes at once; node:http then reads the rest of the body, until the deadline.
    await sleep(200)
    expect(parseAnswer(w.data, 0).status).toBe(401)
    await expectHealthy()

    const lifetime = await closedWithin(
      w,
      LIMITS.requestTimeoutMs + LIMITS.checkIntervalMs + MARGIN_MS,
    )
    trickle.stop()
    expect(lifetime).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - EARLY_MS)
    await expectHealthy()
  })
})

describe('a client that stops reading', () => {
  it('stops reading its pipelined requests once answers back up, then closes it when idle', async () => {
    const port = portOf(host)
    const endpoint = host.endpoint
    const health = endpoint.health.bind(endpoint)
    let served = 0
    endpoint.health = () => {
      served++
      return health()
    }
    try {
      const w = watch(port, { paused: true })
      await w.connected
      // 1000 pipelined health checks per write, until the server stops taking them: at most
      // 400 writes (~15 MB) and 5 s.
      const batch = Buffer.from(healthRequest('keep-alive').repeat(1000))
      let requests = 0
      let backedUpAt: number | undefined
      const started = Date.now()
      while (requests < 400_000 && Date.now() - started < 5_000 && w.closedAt === undefined) {
        if (w.socket.writableLength > 1 << 20) {
          backedUpAt = Date.now()
          break
        }
        w.socket.write(batch)
        requests += 1000
        await sleep(1)
      }
      // The server stopped reading: our writes pile up on our side, and it answers no more.
      expect(backedUpAt).toBeDefined()
      await sleep(200)
      const plateau = served
      await expectHealthy()
      await sleep(200)
      expect(served - plateau).toBe(1) // the health check just above, on its own socket
      expect(plateau).toBeLessThan(requests / 2)

      // Nothing moves on it: closed at the idle timeout (a reset, as unread requests are dropped).
      await closedWithin(w, LIMITS.idleTimeoutMs * 2 + MARGIN_MS)
      expect(w.error === undefined || w.error === 'ECONNRESET' || w.error === 'EPIPE').toBe(true)
      expect(served - plateau).toBe(1)
      await expectHealthy()
    } finally {
      endpoint.health = health
    }
  })
})

describe('many idle connections', () => {
  it('closes 100 silent and 100 kept-alive connections at their deadlines, serving others throughout', async () => {
    const port = portOf(host)
    const silent = Array.from({ length: 100 }, () => watch(port))
    const keptAlive = Array.from({ length: 100 }, () => watch(port))
    await Promise.all([...silent, ...keptAlive].map((w) => w.connected))
    const answeredAt = new Map<Watched, number>()
    for (const w of keptAlive) {
      w.socket.write(healthRequest('keep-alive'))
      w.socket.on('data', () => answeredAt.set(w, answeredAt.get(w) ?? Date.now()))
    }

    await sleep(100)
    await expectHealthy()
    const lifetimes = await Promise.all(
      silent.map((w) =>
        closedWithin(w, LIMITS.headersTimeoutMs + LIMITS.checkIntervalMs + MARGIN_MS),
      ),
    )
    await Promise.all(
      keptAlive.map((w) =>
        closedWithin(w, LIMITS.keepAliveTimeoutMs + KEEP_ALIVE_GRACE_MS + MARGIN_MS),
      ),
    )
    await expectHealthy()

    for (const w of silent) expectCutOff(w)
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(
      Math.min(LIMITS.headersTimeoutMs, LIMITS.idleTimeoutMs) - EARLY_MS,
    )
    for (const w of keptAlive) {
      expect(parseAnswer(w.data, 0).status).toBe(200)
      const idle = (w.closedAt as number) - (answeredAt.get(w) as number)
      expect(idle).toBeGreaterThanOrEqual(
        LIMITS.keepAliveTimeoutMs + KEEP_ALIVE_GRACE_MS - EARLY_MS,
      )
      expect(idle).toBeLessThan(LIMITS.keepAliveTimeoutMs + KEEP_ALIVE_GRACE_MS + MARGIN_MS)
    }
  })

  it('refuses connections beyond maxConnections, logs it, and accepts again once some close', async () => {
    const lines: LogLine[] = []
    const small = await startHost({ ...LIMITS, maxConnections: 20 }, lines)
    try {
      const port = portOf(small)
      // Twenty answered keep-alive connections: all accepted, all open for 1.5 s more.
      const held = Array.from({ length: 20 }, () => watch(port))
      for (const w of held) w.socket.write(healthRequest('keep-alive'))
      const deadline = Date.now() + PROMPT_MS
      while (held.some((w) => !w.data.includes('\r\n\r\n')) && Date.now() < deadline)
        await sleep(10)
      expect(held.map((w) => parseAnswer(w.data, 0).status)).toEqual(Array(20).fill(200))

      const refused = watch(port)
      refused.socket.write(healthRequest())
      await closedWithin(refused, PROMPT_MS)
      expect(refused.data).toBe('')
      expect(held.filter((w) => w.closedAt !== undefined)).toHaveLength(0)
      expect(lines.filter((l) => l.event === 'connections_refused')).toEqual([
        { level: 'warn', event: 'connections_refused', fields: { maxConnections: 20, refused: 1 } },
      ])

      await Promise.all(
        held.map((w) =>
          closedWithin(w, LIMITS.keepAliveTimeoutMs + KEEP_ALIVE_GRACE_MS + MARGIN_MS),
        ),
      )
      await expectHealthy(small)
    } finally {
      await small.close()
    }
  })
})
