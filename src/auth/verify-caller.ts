// Verifies that the caller is Entra: the bearer token's RS256 signature (keys of an accepted issuer),
// issuer, tenant, audience, lifetime, and the authentication events service as the calling app.
// Runs before the body is read. Never logs or echoes the token.
import { hash } from 'node:crypto'
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose'
import type { Deadline } from '../deadline.js'
import { EndpointError } from '../errors.js'
import type { SigningKeyStore } from './signing-keys.js'

/** The "Azure AD authentication events" service principal (contract §2). */
export const ENTRA_EVENTS_APP_ID = '99045fe1-7639-4a75-9d4a-577b6ca3810f'

export interface VerifiedCaller {
  readonly tenantId: string
  readonly issuer: string
  readonly tokenVersion: '1.0' | '2.0'
  readonly expiresAt: number
}

export interface CallerVerifierOptions {
  readonly tenantId: string
  readonly issuers: readonly string[]
  readonly audiences: readonly string[]
  readonly clockToleranceSeconds: number
  readonly keys: SigningKeyStore
  readonly now: () => number
}

export interface CallerVerifier {
  /** A token verified before is answered from memory (Entra reuses its token until near expiry). */
  verify(authorization: string | null, deadline: Deadline): Promise<VerifiedCaller>
}

/** Entra's app-only tokens are 1-2 KB; a bound keeps hashing and decoding cheap for hostile input. */
const MAX_TOKEN_LENGTH = 8 * 1024
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
/** Verified tokens are remembered this long at most (and never past "exp"), so that a key removed
 * from the issuer's set stops being honoured within this time. */
const CACHE_TTL_MS = 5 * 60 * 1000
const CACHE_MAX_ENTRIES = 1000

const invalid = (message: string) => new EndpointError('ERR_TOKEN_INVALID', message)

export function createCallerVerifier(options: CallerVerifierOptions): CallerVerifier {
  const issuers = new Set(options.issuers)
  const cache = new Map<string, { caller: VerifiedCaller; until: number }>()

  async function verifyToken(token: string, deadline: Deadline): Promise<VerifiedCaller> {
    const { kid } = readHeader(token)
    const iss = readUnverifiedIssuer(token)
    if (!issuers.has(iss)) throw invalid('"iss" claim is not an accepted issuer')
    const key = await options.keys.keyFor(iss, kid, deadline)

    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, key, {
        algorithms: ['RS256'],
        issuer: iss,
        audience: [...options.audiences],
        clockTolerance: options.clockToleranceSeconds,
        currentDate: new Date(options.now()),
        requiredClaims: ['exp', 'tid'],
      }))
    } catch (err) {
      throw toTokenError(err)
    }
    return checkCaller(payload, iss)
  }

  function checkCaller(payload: JWTPayload, iss: string): VerifiedCaller {
    if (payload.tid !== options.tenantId)
      throw invalid('"tid" claim is not this endpoint\'s tenant')
    // "iss" names the tenant too (contract §2); both must agree.
    if (!iss.toLowerCase().includes(`/${options.tenantId}/`))
      throw invalid('"iss" claim is not consistent with "tid"')
    const version = payload.ver
    if (version === '2.0') {
      if (payload.azp !== ENTRA_EVENTS_APP_ID) {
        throw new EndpointError(
          'ERR_CALLER_NOT_ALLOWED',
          '"azp" claim is not the Entra authentication events service',
        )
      }
    } else if (version === '1.0') {
      if (payload.appid !== ENTRA_EVENTS_APP_ID) {
        throw new EndpointError(
          'ERR_CALLER_NOT_ALLOWED',
          '"appid" claim is not the Entra authentication events service',
        )
      }
    } else {
      throw invalid('"ver" claim must be "1.0" or "2.0"')
    }
    return {
      tenantId: payload.tid,
      issuer: iss,
      tokenVersion: version,
      expiresAt: (payload.exp ?? 0) * 1000,
    }
  }

  async function verifyAndRemember(token: string, deadline: Deadline, now: number) {
    const digest = digestOf(token)
    cache.delete(digest)
    const caller = await verifyToken(token, deadline)
    if (cache.size >= CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value as string)
    cache.set(digest, { caller, until: Math.min(caller.expiresAt, now + CACHE_TTL_MS) })
    return caller
  }

  return {
    async verify(authorization, deadline) {
      const now = options.now()
      // Fast path for Entra's repeated token: a cached digest means this exact token string passed
      // every check below already, so only the scheme is looked at before the lookup.
      const candidate = cheapBearer(authorization)
      if (candidate !== undefined) {
        const hit = cache.get(digestOf(candidate))
        if (hit !== undefined && now < hit.until) return hit.caller
      }
      return verifyAndRemember(bearerToken(authorization), deadline, now)
    },
  }
}

// crypto.hash: the one-shot digest (Node ≥ 20.12), cheaper than a Hash object per request.
const digestOf = (token: string) => hash('sha256', token, 'base64url')

/** `Bearer <token>` split without scanning the token; undefined when it cannot be a cache hit. */
function cheapBearer(authorization: string | null): string | undefined {
  if (authorization === null || authorization.length > MAX_TOKEN_LENGTH + 16) return undefined
  if (authorization.charCodeAt(6) !== 32 || authorization.slice(0, 6).toLowerCase() !== 'bearer') {
    return undefined
  }
  return authorization.slice(7)
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`, the scheme case-insensitive. */
function bearerToken(authorization: string | null): string {
  if (authorization === null || authorization.trim() === '') {
    throw new EndpointError(
      'ERR_TOKEN_MISSING',
      'missing bearer token in the "authorization" header',
    )
  }
  const match = /^([A-Za-z]+) +(\S+) *$/.exec(authorization)
  if (match?.[1]?.toLowerCase() !== 'bearer' || match[2] === undefined) {
    throw new EndpointError(
      'ERR_TOKEN_MISSING',
      'the "authorization" header must use the Bearer scheme',
    )
  }
  const token = match[2]
  if (token.length > MAX_TOKEN_LENGTH) throw invalid(`token exceeds ${MAX_TOKEN_LENGTH} characters`)
  if (!COMPACT_JWS.test(token)) throw invalid('token is not a signed JWT in compact form')
  return token
}

function readHeader(token: string): { kid: string } {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(token)
  } catch {
    throw invalid('token header is not valid JSON')
  }
  // RS256 only: never "none", never HMAC (an HS256 token "signed" with our public key).
  if (header.alg !== 'RS256') throw invalid('"alg" header must be RS256')
  // RFC 7515 §4.1.11: extensions we do not understand must be rejected; we understand none.
  if (header.crit !== undefined) throw invalid('"crit" header is not supported')
  // "jku", "x5u", "jwk" and "x5c" are ignored: keys come only from the issuer's metadata.
  if (typeof header.kid !== 'string' || header.kid === '' || header.kid.length > 256) {
    throw invalid('"kid" header is missing')
  }
  return { kid: header.kid }
}

function readUnverifiedIssuer(token: string): string {
  let payload: JWTPayload
  try {
    payload = decodeJwt(token)
  } catch {
    throw invalid('token payload is not a JSON object')
  }
  if (typeof payload.iss !== 'string') throw invalid('missing required "iss" claim')
  return payload.iss
}

/** jose's errors, classified by type (never by message text), to messages that name the check. */
function toTokenError(err: unknown): EndpointError {
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return invalid('signature verification failed')
  if (err instanceof errors.JWTExpired)
    return invalid('"exp" claim timestamp check failed: the token has expired')
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing') return invalid(`missing required "${err.claim}" claim`)
    if (err.claim === 'nbf')
      return invalid('"nbf" claim timestamp check failed: the token is not yet valid')
    if (err.claim === 'aud') return invalid('"aud" claim does not match this endpoint')
    return invalid(`"${err.claim}" claim check failed`)
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return invalid('"alg" header must be RS256')
  if (err instanceof errors.JOSEError) return invalid('token is malformed')
  return new EndpointError('ERR_INTERNAL', 'token verification failed', { cause: err })
}
