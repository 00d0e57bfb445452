// The issuers' signing keys: OpenID metadata -> jwks_uri -> RSA public keys, imported once and held
// in memory. Known keys keep working while the key endpoint is down; an unknown `kid` causes at
// most one refetch per issuer per cooldown, shared by every request that asks meanwhile.
// Why not jose's createRemoteJWKSet: once its cache is older than cacheMaxAge it refetches on the
// request path and fails the request when that fetch fails, which breaks "known keys keep working".
import { readLimited } from '../outbound/fetch-json.js'
import { importJWK } from 'jose'
import * as z from 'zod'
import { isSecureUrl } from '../secure-url.js'
import type { Deadline } from '../deadline.js'
import { EndpointError } from '../errors.js'
import type { Logger } from '../log.js'

type PublicKey = Awaited<ReturnType<typeof importJWK>>

export interface SigningKeyStore {
  /** The key for `kid`, refetching once (rate-limited) when it is unknown, within `deadline`. */
  keyFor(issuer: string, kid: string, deadline: Deadline): Promise<PublicKey>
  /** Fetches every issuer's keys once; never rejects (failures are logged and retried later). */
  warmUp(): Promise<void>
  status(): readonly IssuerKeyStatus[]
}

export interface IssuerKeyStatus {
  readonly issuer: string
  readonly keys: number
  readonly fetchedAt: number | undefined
  readonly lastError: string | undefined
}

export interface SigningKeyOptions {
  readonly issuers: readonly string[]
  readonly timeoutMs: number
  readonly cooldownMs: number
  readonly log: Logger
  readonly now: () => number
}

/** Keys are refreshed in the background once the set is this old (Entra rotates keys rarely). */
const MAX_AGE_MS = 60 * 60 * 1000
const MAX_DOCUMENT_BYTES = 256 * 1024

const MetadataSchema = z.object({
  jwks_uri: z.string().refine(isSecureUrl, 'must be an https URL'),
})
const JwksSchema = z.object({
  keys: z
    .array(
      z.object({
        kty: z.string().max(16),
        kid: z.string().min(1).max(256).optional(),
        use: z.string().max(16).optional(),
        n: z.string().max(4096).optional(),
        e: z.string().max(16).optional(),
      }),
    )
    .max(100),
})

interface IssuerState {
  keys: ReadonlyMap<string, PublicKey>
  fetchedAt: number | undefined
  lastAttemptAt: number | undefined
  lastError: string | undefined
  inFlight: Promise<void> | undefined
}

export function createSigningKeyStore(options: SigningKeyOptions): SigningKeyStore {
  const { log, now } = options
  const states = new Map<string, IssuerState>(
    options.issuers.map((issuer) => [
      issuer,
      {
        keys: new Map(),
        fetchedAt: undefined,
        lastAttemptAt: undefined,
        lastError: undefined,
        inFlight: undefined,
      },
    ]),
  )

  function refresh(issuer: string, state: IssuerState): Promise<void> {
    state.inFlight ??= (async () => {
      state.lastAttemptAt = now()
      try {
        const keys = await fetchKeys(issuer, options.timeoutMs)
        // A key set with no usable RS256 key is a broken answer, not a revocation of every key.
        if (keys.size === 0)
          throw new EndpointError('ERR_KEYS_UNAVAILABLE', 'key set has no usable RS256 key')
        state.keys = keys
        state.fetchedAt = now()
        state.lastError = undefined
        log.info('signing_keys_fetched', { issuer, keys: state.keys.size })
      } catch (err) {
        // Known keys stay: an outage of the key endpoint must not fail valid tokens.
        state.lastError =
          err instanceof EndpointError ? err.message : 'key set could not be fetched'
        log.warn('signing_keys_fetch_failed', { issuer, reason: state.lastError })
      } finally {
        state.inFlight = undefined
      }
    })()
    return state.inFlight
  }

  return {
    async keyFor(issuer, kid, deadline) {
      const state = states.get(issuer)
      if (state === undefined)
        throw new EndpointError('ERR_TOKEN_INVALID', '"iss" claim is not an accepted issuer')
      // Every fetch, background ones included, waits out the cooldown since the last attempt: keyFor
      // runs before the signature is checked, so forged tokens must not be able to drive fetches.
      const coolingDown =
        state.lastAttemptAt !== undefined && now() - state.lastAttemptAt < options.cooldownMs
      const known = state.keys.get(kid)
      if (known !== undefined) {
        const stale = state.fetchedAt !== undefined && now() - state.fetchedAt > MAX_AGE_MS
        if (stale && !coolingDown && state.inFlight === undefined) void refresh(issuer, state)
        return known
      }
      if (state.inFlight !== undefined || !coolingDown) {
        // The fetch is shared by every request waiting on it: each gives up at its own deadline,
        // the fetch goes on (bounded by ENTRA_KEYS_TIMEOUT_MS) for the others.
        await deadline.race(state.inFlight ?? refresh(issuer, state), deadlineError)
        const fetched = state.keys.get(kid)
        if (fetched !== undefined) return fetched
      }
      if (state.lastError !== undefined) {
        throw new EndpointError(
          'ERR_KEYS_UNAVAILABLE',
          "the issuer's signing keys could not be fetched",
        )
      }
      throw new EndpointError(
        'ERR_TOKEN_INVALID',
        '"kid" header does not match a signing key of the issuer',
      )
    },

    async warmUp() {
      await Promise.all([...states].map(([issuer, state]) => refresh(issuer, state)))
    },

    status() {
      return [...states].map(([issuer, s]) => ({
        issuer,
        keys: s.keys.size,
        fetchedAt: s.fetchedAt,
        lastError: s.lastError,
      }))
    },
  }
}

/** Contract §2: a v1 issuer (sts.windows.net) publishes its metadata on login.microsoftonline.com. */
export function metadataUrl(issuer: string): string {
  const v1 = /^https:\/\/sts\.windows\.net\/([0-9a-fA-F-]{36})\/$/.exec(issuer)
  if (v1) return `https://login.microsoftonline.com/${v1[1]}/.well-known/openid-configuration`
  return `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
}

async function fetchKeys(issuer: string, timeoutMs: number): Promise<Map<string, PublicKey>> {
  const signal = AbortSignal.timeout(timeoutMs)
  const metadata = MetadataSchema.safeParse(await fetchDocument(metadataUrl(issuer), signal))
  if (!metadata.success)
    throw new EndpointError('ERR_KEYS_UNAVAILABLE', 'OpenID metadata has no valid "jwks_uri"')
  const jwks = JwksSchema.safeParse(await fetchDocument(metadata.data.jwks_uri, signal))
  if (!jwks.success)
    throw new EndpointError('ERR_KEYS_UNAVAILABLE', 'JWKS document is not a key set')

  const keys = new Map<string, PublicKey>()
  for (const jwk of jwks.data.keys) {
    // RS256 only: RSA signing keys with a kid. Anything else in the set is ignored.
    if (jwk.kty !== 'RSA' || jwk.kid === undefined || (jwk.use !== undefined && jwk.use !== 'sig'))
      continue
    try {
      keys.set(jwk.kid, await importJWK({ kty: 'RSA', n: jwk.n, e: jwk.e }, 'RS256'))
    } catch {
      // A malformed key is skipped; the others remain usable.
    }
  }
  return keys
}

async function fetchDocument(url: string, signal: AbortSignal): Promise<unknown> {
  let res: Response
  try {
    // Redirects are not followed: the metadata and key set are fetched from where configuration says.
    res = await fetch(url, { signal, redirect: 'error', headers: { accept: 'application/json' } })
  } catch (err) {
    const why = signal.aborted ? 'timed out' : 'could not be reached'
    throw new EndpointError('ERR_KEYS_UNAVAILABLE', `key endpoint ${why}`, { cause: err })
  }
  if (res.status !== 200) {
    await res.body?.cancel()
    throw new EndpointError('ERR_KEYS_UNAVAILABLE', `key endpoint answered HTTP ${res.status}`)
  }
  const text = await readLimited(
    res,
    MAX_DOCUMENT_BYTES,
    () => new EndpointError('ERR_KEYS_UNAVAILABLE', 'key endpoint answer is too large'),
  )
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    throw new EndpointError('ERR_KEYS_UNAVAILABLE', 'key endpoint answered invalid JSON', {
      cause: err,
    })
  }
}

const deadlineError = () =>
  new EndpointError(
    'ERR_DEADLINE_EXCEEDED',
    'the request budget ran out while fetching signing keys',
  )
