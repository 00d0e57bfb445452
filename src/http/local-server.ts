// The local host: the same endpoint as functions/, on node:http, with no Azure. Routes mirror the
// Functions app (/api/<route>, case-insensitive as there). Without ENTRA_TENANT_ID it runs in dev
// mode with an in-process issuer, on loopback only.
import { generateKeyPair, randomUUID, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { promisify } from 'node:util'
import type { AddressInfo } from 'node:net'
import * as z from 'zod'
import { createEndpoint, type Endpoint } from '../app.js'
import type { CodeHandlers } from '../events/code-handler.js'
import { createDeadlineClock } from '../deadline.js'
import { readBoundedBody } from './read-body.js'
import { ConfigError, loadConfig, wholeNumber, type Config } from '../config.js'
import { LOOPBACK_HOSTS } from '../secure-url.js'
import { describeIssue } from '../describe-issue.js'
import { DEV_AUDIENCE, DEV_TENANT_ID, startDevIssuer, type DevIssuer } from '../dev/dev-issuer.js'
import { EndpointError } from '../errors.js'
import { EVENT_ROUTE_NAMES, type EventRoute } from '../events/routes.js'
import type { Logger } from '../log.js'
import { errorReply, JSON_HEADERS } from './error-reply.js'
import { encryptPasswordContext } from '../passwords/password-context.js'
import type { IncomingCall, Reply } from './types.js'
import { telemetryFromEnvironment } from '../telemetry/azure-monitor.js'
import type { Telemetry } from '../telemetry/telemetry.js'

/** Variables only the local host reads (the table in docs/configuration.md is checked against these too). */
export const LocalEnvSchema = z.object({
  HOST: z.string().min(1).max(255).default('127.0.0.1').meta({
    defaultText: '`127.0.0.1`',
    description: 'Local host only (`npm start`): the address to listen on.',
  }),
  PORT: wholeNumber({
    min: 0,
    max: 65_535,
    fallback: 7071,
    description: 'Local host only: the port (`0` picks a free one).',
  }),
})

export interface LocalServer {
  readonly url: string
  readonly config: Config
  readonly endpoint: Endpoint
  /** Present in dev mode only. */
  readonly devIssuer: DevIssuer | undefined
  close(): Promise<void>
}

export interface LocalServerOptions {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly log: Logger
  readonly cwd?: string
  /** The clock (tests advance it instead of sleeping). */
  readonly now?: () => number
  /** Overrides of {@link DEFAULT_CONNECTION_LIMITS} (tests use small values). */
  readonly limits?: Partial<ConnectionLimits>
  /** Spans and metrics; default: Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set. */
  readonly telemetry?: Telemetry
  /** Handlers written in code (the package's API); the other events run EXTENSION_CONFIG's. */
  readonly code?: CodeHandlers
}

/** What a connection may take and hold, so that slow or stuck clients cannot exhaust the host. */
export interface ConnectionLimits {
  /** The request line and headers must have arrived this long (ms) after the request began
   * (for a new connection: after it opened, even if it sends nothing); else 408 and close. */
  readonly headersTimeoutMs: number
  /** The whole request, body included, within this (ms); else 408 and close. The event routes
   * answer a body slower than the request budget before this: 408 ERR_REQUEST_TIMEOUT. */
  readonly requestTimeoutMs: number
  /** How often (ms) the two deadlines above are checked: they are enforced up to this late. */
  readonly checkIntervalMs: number
  /** A keep-alive connection with no new request is closed after this (ms), announced in
   * `Keep-Alive: timeout=…`; node:http waits 1 s more, so that clients give up on it first. */
  readonly keepAliveTimeoutMs: number
  /** A connection on which nothing moves, in either direction, is closed after this (ms): the
   * only bound on a client that stops reading its answers (the deadlines above end with the
   * request, and keep-alive starts only once an answer is written). */
  readonly idleTimeoutMs: number
  /** Connections beyond this many are closed as soon as they are accepted, unanswered (logged at
   * most every 10 s as `connections_refused`, with how many since the last line): memory and file
   * descriptors stay bounded, and free for the outbound calls (signing keys, claims sources). */
  readonly maxConnections: number
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  // Entra sends a whole request at once and waits at most 2 s for the answer: these are generous.
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  // Node's default is 30 s, which made the 5 s header deadline up to 35 s in practice.
  checkIntervalMs: 1_000,
  keepAliveTimeoutMs: 5_000,
  // No answer takes longer than the request budget (at most 1.9 s) to compute.
  idleTimeoutMs: 5_000,
  // Far above what Entra's calls need, below the usual 1024 file descriptors per process.
  maxConnections: 512,
}

/** Lower-case paths (routes match case-insensitively, as on Functions), plus the canonical spelling
 * so that the usual request is found without allocating a lower-cased copy. */
const ROUTES = new Map<string, EventRoute>(
  EVENT_ROUTE_NAMES.flatMap((route) => [
    [`/api/${route.toLowerCase()}`, route],
    [`/api/${route}`, route],
  ]),
)

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const { env, log } = options
  const local = LocalEnvSchema.safeParse(
    Object.fromEntries(
      Object.entries(env).filter(([k, v]) => k in LocalEnvSchema.shape && v !== ''),
    ),
  )
  if (!local.success) {
    // Report these with the endpoint's own problems: the operator fixes everything in one go.
    const problems = local.error.issues.map((issue) => describeIssue(issue))
    if (!isUnset(env.ENTRA_TENANT_ID)) problems.push(...configProblems(env, options.cwd))
    throw new ConfigError(problems)
  }
  const { HOST: host, PORT: port } = local.data

  const devMode = isUnset(env.ENTRA_TENANT_ID)
  // Dev mode makes two RSA keys (the dev issuer's, and OnPasswordSubmit's when no key is
  // configured): both at once, on libuv's threads, instead of one after the other.
  const devKey = devMode ? devRsaKey() : undefined
  const devIssuer = devMode ? await startDevMode(env, host) : undefined
  let config: Config
  try {
    config = loadConfig(
      devIssuer === undefined
        ? env
        : {
            ...env,
            ENTRA_TENANT_ID: DEV_TENANT_ID,
            ENTRA_AUDIENCE: DEV_AUDIENCE,
            ENTRA_ISSUER: devIssuer.issuer,
          },
      options.cwd,
    )
  } catch (err) {
    await devIssuer?.close()
    throw err
  }
  const telemetry = options.telemetry ?? (await telemetryFromEnvironment(env, log))
  // Dev mode without PASSWORD_DECRYPTION_KEY_PATH: OnPasswordSubmit's key is made here, in memory.
  const passwordDevKey =
    devKey !== undefined && config.password.keys.length === 0 ? await devKey : undefined
  const endpoint = createEndpoint(config, {
    ...(passwordDevKey === undefined ? {} : { passwordDevKey }),
    log,
    telemetry,
    ...(options.now ? { now: options.now } : {}),
    // Dev mode listens on loopback only (startDevMode refuses another host): details for all.
    openHealthDetails: devIssuer !== undefined,
    ...(options.code === undefined ? {} : { code: options.code }),
  })
  await endpoint.warmedUp

  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits }
  const server = createServer(
    // Slow clients must not hold the host: see ConnectionLimits.
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => {
      route(req, endpoint, devIssuer, log).then(
        (reply) => send(res, reply),
        (err: unknown) => send(res, errorReply(err, log)),
      )
    },
  )
  // No 'timeout' listener: node:http destroys the socket.
  server.timeout = limits.idleTimeoutMs
  server.maxConnections = limits.maxConnections
  warnOfRefusedConnections(server, limits.maxConnections, log, options.now ?? Date.now)
  await listen(server, port, host)
  const address = server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    url: `http://${shownHost}:${address.port}`,
    config,
    endpoint,
    devIssuer,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await devIssuer?.close()
    },
  }
}

async function startDevMode(env: LocalServerOptions['env'], host: string): Promise<DevIssuer> {
  const problems: string[] = []
  for (const name of ['ENTRA_AUDIENCE', 'ENTRA_ISSUER'] as const) {
    if (!isUnset(env[name])) problems.push(`ENTRA_TENANT_ID: is required when ${name} is set`)
  }
  if (!LOOPBACK_HOSTS.has(host)) {
    problems.push(
      'HOST: dev mode (ENTRA_TENANT_ID unset) listens on a loopback host only; set ENTRA_TENANT_ID to serve elsewhere',
    )
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return startDevIssuer()
}

async function route(
  req: IncomingMessage,
  endpoint: Endpoint,
  devIssuer: DevIssuer | undefined,
  log: Logger,
): Promise<Reply> {
  const url = req.url ?? '/'
  const path = ROUTES.has(url) ? url : (url.split('?', 1)[0]?.toLowerCase() ?? '/')
  const eventRoute = ROUTES.get(path)
  if (eventRoute !== undefined) return endpoint.handle(eventRoute, toIncomingCall(req), { log })
  if (path === '/api/health') {
    if (req.method !== 'GET')
      throw new EndpointError('ERR_METHOD_NOT_ALLOWED', 'only GET is allowed', { allow: 'GET' })
    const authorization = req.headers.authorization
    return endpoint.health({ authorization: authorization ?? null })
  }
  if (path === '/api/dev/token' && devIssuer !== undefined) {
    if (req.method !== 'POST')
      throw new EndpointError('ERR_METHOD_NOT_ALLOWED', 'only POST is allowed')
    const token = await devIssuer.mintToken()
    return {
      status: 200,
      headers: JSON_HEADERS,
      body: JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }),
    }
  }
  if (path === '/api/dev/passwordcontext' && devIssuer !== undefined) {
    if (req.method !== 'POST')
      throw new EndpointError('ERR_METHOD_NOT_ALLOWED', 'only POST is allowed')
    return devPasswordContext(req, endpoint)
  }
  throw new EndpointError('ERR_NOT_FOUND', 'no such route')
}

const devRouteDeadlines = createDeadlineClock()
const DEV_ROUTE_BUDGET_MS = 5_000

const devRsaKey = async (): Promise<KeyObject> =>
  (await promisify(generateKeyPair)('rsa', { modulusLength: 2048 })).privateKey

const DevPasswordContextSchema = z.object({
  username: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
  nonce: z.string().min(1).max(128).optional(),
})

/** Dev mode: `{ username, password }` encrypted as Entra would, to the endpoint's key. */
async function devPasswordContext(req: IncomingMessage, endpoint: Endpoint): Promise<Reply> {
  const key = endpoint.passwordEncryptionKey
  if (key === undefined)
    throw new EndpointError('ERR_NOT_CONFIGURED', 'OnPasswordSubmit has no key')
  // The pipeline's bounded reader, under a deadline of its own (this route has no request budget).
  const deadline = devRouteDeadlines.start(DEV_ROUTE_BUDGET_MS)
  let text: string
  try {
    text = (await readBoundedBody(toIncomingCall(req), 8192, deadline)).toString('utf8')
  } finally {
    deadline.finish(true)
  }
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new EndpointError('ERR_MALFORMED_JSON', 'the body is not JSON')
  }
  const parsed = DevPasswordContextSchema.safeParse(body)
  if (!parsed.success)
    throw new EndpointError('ERR_INVALID_REQUEST', 'give "username" and "password" as strings')
  const { username, password, nonce = randomUUID() } = parsed.data
  const encryptedPasswordContext = await encryptPasswordContext({ username, password, nonce }, key)
  return { status: 200, headers: JSON_HEADERS, body: JSON.stringify({ encryptedPasswordContext }) }
}

function toIncomingCall(req: IncomingMessage): IncomingCall {
  return {
    method: req.method ?? '',
    headers: {
      get(name) {
        const value = req.headers[name]
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
      },
    },
    body: req,
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return
  // A flat [name, value, …] list is the cheapest header form node:http takes.
  const headers: string[] = ['content-length', String(Buffer.byteLength(reply.body))]
  for (const name in reply.headers) headers.push(name, reply.headers[name] as string)
  res.writeHead(reply.status, headers)
  res.end(reply.body)
}

/** A flood of refused connections is one log line per 10 s, with how many were refused. */
function warnOfRefusedConnections(
  server: Server,
  maxConnections: number,
  log: Logger,
  now: () => number,
): void {
  let refused = 0
  let warnedAt = -Infinity
  server.on('drop', () => {
    refused++
    if (now() - warnedAt < 10_000) return
    warnedAt = now()
    log.warn('connections_refused', { maxConnections, refused })
    refused = 0
  })
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function configProblems(
  env: LocalServerOptions['env'],
  cwd: string | undefined,
): readonly string[] {
  try {
    loadConfig(env, cwd)
    return []
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
}

const isUnset = (value: string | undefined) => value === undefined || value.trim() === ''
