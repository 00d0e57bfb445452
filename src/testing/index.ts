// `entra-auth-extension/testing`: unit-test handlers written in code with vitest (or any runner).
// sampleEvent gives a valid request body of an event, invoke runs the whole pipeline in-process
// (a dev token, the schemas, the deadline) and devToken signs tokens for tests over real sockets.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import type * as z from 'zod'
import { INTERNALS, type EventsCore, type ServingEndpoint } from '../api/authentication-events.js'
import { createEndpoint, type Endpoint } from '../app.js'
import { loadConfig } from '../config.js'
import { DEV_AUDIENCE, DEV_TENANT_ID, startDevIssuer, type DevIssuer } from '../dev/dev-issuer.js'
import { EVENT_ROUTES, type EventOf, type EventRoute } from '../events/routes.js'
import type { Logger } from '../log.js'
import { packageRoot } from '../package-root.js'
import { encryptPasswordContext } from '../passwords/password-context.js'

/** An event's name, as its handler method is named: 'onTokenIssuanceStart', … */
export type EventName = EventRoute
/** A request body of the event, as Entra sends it. */
export type SampleEvent<N extends EventName> = z.input<EventOf<N>['request']>
/** An answer of the event. */
export type EventAnswer<N extends EventName> = z.output<EventOf<N>['response']>

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | null }
    : T

/**
 * A valid request body of the event (one of the recorded events that ship with the package),
 * deep-merged with `overrides`: objects merge member by member, anything else (arrays included)
 * replaces, and null stands for a member Entra sends as null.
 */
export function sampleEvent<N extends EventName>(
  name: N,
  overrides?: DeepPartial<SampleEvent<N>>,
): SampleEvent<N> {
  const event = EVENT_ROUTES[name]
  const [file] = event.fixtures
  if (file === undefined) throw new Error(`${name}: no recorded event`)
  const body = JSON.parse(
    readFileSync(join(packageRoot(), 'test', 'fixtures', 'events', `${file}.json`), 'utf8'),
  ) as unknown
  return merge(body, overrides) as SampleEvent<N>
}

function merge(base: unknown, overrides: unknown): unknown {
  if (overrides === undefined) return base
  if (!isPlainObject(base) || !isPlainObject(overrides)) return overrides
  const out: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(overrides)) {
    if (key === '__proto__') continue
    out[key] = merge(out[key], value)
  }
  return out
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

export interface InvokeOptions {
  /** The bearer token: default a fresh dev token; null sends none (to test the 401). */
  readonly token?: string | null
  /** Extra settings for this endpoint (EXTENSION_CONFIG, REQUEST_BUDGET_MS, …). */
  readonly env?: Readonly<Record<string, string>>
}

export interface InvokeResult<N extends EventName> {
  readonly status: number
  /** The answer parsed: the event's answer on 200, `{ error: { code, message } }` otherwise. */
  readonly body:
    EventAnswer<N> | { readonly error: { readonly code: string; readonly message: string } }
}

/**
 * Runs the whole pipeline in-process, as Entra's call would: the token check (against the dev
 * issuer), the request schema, your handler (or EXTENSION_CONFIG's), the deadline and the answer
 * schema. Always in dev mode, whatever ENTRA_TENANT_ID says.
 */
export async function invoke<N extends EventName>(
  events: EventsCore,
  name: N,
  body: unknown,
  options: InvokeOptions = {},
): Promise<InvokeResult<N>> {
  const endpoint = await endpointFor(events, options.env ?? {})
  const token = options.token === undefined ? await devToken() : options.token
  const bytes = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (token !== null) headers.authorization = `Bearer ${token}`
  const reply = await endpoint.handle(
    name,
    {
      method: 'POST',
      headers: { get: (header) => headers[header.toLowerCase()] ?? null },
      body: Readable.from([bytes]) as AsyncIterable<Uint8Array>,
    },
    { log: quiet(events[INTERNALS].log) },
  )
  return { status: reply.status, body: JSON.parse(reply.body) as InvokeResult<N>['body'] }
}

/**
 * A token the dev issuer signs, shaped like Entra's. Without `server`, for invoke(); with the
 * endpoint serve() started in dev mode, for calls to it over real sockets.
 */
export async function devToken(server?: ServingEndpoint): Promise<string> {
  if (server !== undefined) {
    if (server.devIssuer === undefined)
      throw new Error('devToken: the server is not in dev mode (ENTRA_TENANT_ID is set)')
    return server.devIssuer.mintToken()
  }
  return (await sharedIssuer()).mintToken()
}

let issuer: Promise<DevIssuer> | undefined
const sharedIssuer = () => (issuer ??= startDevIssuer({ unref: true }))

/** OnPasswordSubmit's key of invoke()'s endpoints (without PASSWORD_DECRYPTION_KEY_PATH). */
let passwordKey: Promise<KeyObject> | undefined
const sharedPasswordKey = () =>
  (passwordKey ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(
    (pair) => pair.privateKey,
  ))

/**
 * An OnPasswordSubmit `encryptedPasswordContext`, as Entra makes it: for invoke() (its endpoints'
 * own key), or for the endpoint serve() started in dev mode. The nonce is random unless given.
 */
export async function passwordContext(
  context: { readonly username: string; readonly password: string; readonly nonce?: string },
  server?: ServingEndpoint,
): Promise<string> {
  const key = server?.endpoint.passwordEncryptionKey ?? createPublicKey(await sharedPasswordKey())
  return encryptPasswordContext(
    {
      username: context.username,
      password: context.password,
      nonce: context.nonce ?? randomUUID(),
    },
    key,
  )
}

const endpoints = new WeakMap<EventsCore, Map<string, Promise<Endpoint>>>()

/** One endpoint per events object and settings, made on first use and kept for the process. */
function endpointFor(events: EventsCore, extra: Readonly<Record<string, string>>) {
  let byEnv = endpoints.get(events)
  if (byEnv === undefined) endpoints.set(events, (byEnv = new Map<string, Promise<Endpoint>>()))
  const key = JSON.stringify(extra)
  let endpoint = byEnv.get(key)
  if (endpoint === undefined) {
    endpoint = startEndpoint(events, extra)
    byEnv.set(key, endpoint)
  }
  return endpoint
}

async function startEndpoint(events: EventsCore, extra: Readonly<Record<string, string>>) {
  const { env, log, take } = events[INTERNALS]
  const dev = await sharedIssuer()
  const config = loadConfig({
    ...env,
    ...extra,
    ENTRA_TENANT_ID: DEV_TENANT_ID,
    ENTRA_AUDIENCE: DEV_AUDIENCE,
    ENTRA_ISSUER: dev.issuer,
  })
  const endpoint = createEndpoint(config, {
    log: quiet(log),
    code: take(),
    ...(config.password.keys.length === 0 ? { passwordDevKey: await sharedPasswordKey() } : {}),
  })
  await endpoint.warmedUp
  return endpoint
}

/** The endpoint's own lines at warn and above: tests read answers, not request logs. */
function quiet(log: Logger): Logger {
  return { ...log, debug: () => undefined, info: () => undefined }
}
