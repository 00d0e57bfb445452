// Legacy password hashes, recognised from the hash string and checked with maintained
// implementations: bcryptjs (bcrypt), hash-wasm (argon2), node:crypto (scrypt, PBKDF2 and the
// ASP.NET Core Identity formats, which are PBKDF2). This file only parses the stored strings and
// compares the derived bytes in constant time; it computes no hash itself.
import { pbkdf2, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto'
import { promisify } from 'node:util'
import bcrypt from 'bcryptjs'

const pbkdf2Async = promisify(pbkdf2)
const scryptAsync = promisify(scrypt) as (
  password: BinaryLike,
  salt: BinaryLike,
  keylen: number,
  options: ScryptOptions,
) => Promise<Buffer>

/** The formats this step understands (docs/password-migration.md lists them). */
export type HashFormat =
  | 'bcrypt'
  | 'argon2id'
  | 'argon2i'
  | 'scrypt'
  | 'pbkdf2'
  | 'django-pbkdf2'
  | 'aspnet-identity-v3'
  | 'aspnet-identity-v2'

/** A stored hash, parsed once at start-up: `verify` derives from the typed password and compares. */
export interface ParsedHash {
  readonly format: HashFormat
  verify(password: string): Promise<boolean>
}

/**
 * Bounds that keep one verification within a request's budget (REQUEST_BUDGET_MS, 750 ms by
 * default) and memory on a small instance (one slow core): a hash above them would load and then
 * time out at every sign-in, so it is refused at load ('too-costly'). Measured with the libraries
 * used here: bcryptjs cost 13 ≈ 0.5 s; PBKDF2 1,000,000 SHA-256 ≈ 0.3 s (SHA-1 ≈ 0.45 s, SHA-512
 * ≈ 0.6 s per million); scrypt N=2^17, r=8 ≈ 0.35 s and 128 MiB; argon2 (hash-wasm, one thread)
 * 64 MiB × 3 passes ≈ 0.3-0.5 s. Django's default (1,000,000 PBKDF2-SHA256; 1,200,000 from
 * Django 6) and RFC 9106's second recommendation (argon2id 64 MiB, t=3) fit.
 */
const MAX_BCRYPT_COST = 13
const MAX_PBKDF2_ITERATIONS: Readonly<Record<string, number>> = {
  sha1: 1_000_000,
  sha256: 1_200_000,
  sha512: 600_000,
}
/** scrypt: N·r·p (the work) and 128·N·r (the memory, p being sequential here). */
const MAX_SCRYPT_WORK = 2 ** 20
const MAX_SCRYPT_MEMORY = 128 * 1024 * 1024 + 1024 * 1024
const MAX_ARGON2_MEMORY_KIB = 64 * 1024
/** argon2: memory (KiB) × passes. */
const MAX_ARGON2_WORK_KIB = 3 * 64 * 1024

/** The limits above, for the operator's error message. */
export const HASH_COST_LIMITS =
  'bcrypt cost 13, PBKDF2 1,200,000 iterations of SHA-256, 1,000,000 of SHA-1, 600,000 of SHA-512, scrypt N·r·p 2^20 and 128 MiB, argon2 64 MiB and m·t 192 MiB at most'

/** Why a hash string is refused: no format here reads it, or it costs more than a check may. */
export type HashRefusal = 'unsupported' | 'too-costly'

const DIGESTS: Readonly<Record<string, string>> = {
  sha1: 'sha1',
  sha256: 'sha256',
  sha512: 'sha512',
}

/** Constant-time equality of two byte strings (a length difference is not secret). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** PHC and passlib write base64 without padding; passlib's "ab64" uses "." for "+". */
function phcBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/.]+$/.test(text)) return undefined
  return Buffer.from(text.replaceAll('.', '+'), 'base64')
}

function phcParams(text: string): Map<string, number> | undefined {
  const params = new Map<string, number>()
  for (const part of text.split(',')) {
    const match = /^([a-z]+)=(\d{1,10})$/.exec(part)
    if (match === null) return undefined
    params.set(match[1] ?? '', Number(match[2]))
  }
  return params
}

/** `$argon2id$v=19$m=…,t=…,p=…$salt$hash` (the PHC string format; argon2d is not accepted). */
function parseArgon2(hash: string): ParsedHash | HashRefusal {
  const match =
    /^\$(argon2id|argon2i)\$v=19\$([a-z0-9=,]+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash)
  if (match === null) return 'unsupported'
  const [, variant = '', paramText = '', saltText = '', digestText = ''] = match
  const params = phcParams(paramText)
  const memorySize = params?.get('m')
  const iterations = params?.get('t')
  const parallelism = params?.get('p')
  const salt = phcBase64(saltText)
  const expected = phcBase64(digestText)
  if (
    memorySize === undefined ||
    iterations === undefined ||
    parallelism === undefined ||
    salt === undefined ||
    expected === undefined ||
    salt.length < 8 ||
    expected.length < 4 ||
    iterations < 1 ||
    parallelism < 1 ||
    parallelism > 16 ||
    memorySize < 8 * parallelism
  )
    return 'unsupported'
  if (memorySize > MAX_ARGON2_MEMORY_KIB || memorySize * iterations > MAX_ARGON2_WORK_KIB)
    return 'too-costly'
  const format = variant === 'argon2id' ? 'argon2id' : 'argon2i'
  return {
    format,
    async verify(password) {
      const wasm = await import('hash-wasm')
      const derive = format === 'argon2id' ? wasm.argon2id : wasm.argon2i
      const derived = await derive({
        password,
        salt,
        iterations,
        memorySize,
        parallelism,
        hashLength: expected.length,
        outputType: 'binary',
      })
      return sameBytes(derived, expected)
    },
  }
}

/** `$scrypt$ln=…,r=…,p=…$salt$hash` (PHC, as passlib writes it). */
function parseScrypt(hash: string): ParsedHash | HashRefusal {
  const match = /^\$scrypt\$([a-z0-9=,]+)\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)$/.exec(hash)
  if (match === null) return 'unsupported'
  const params = phcParams(match[1] ?? '')
  const ln = params?.get('ln')
  const r = params?.get('r')
  const p = params?.get('p')
  const salt = phcBase64(match[2] ?? '')
  const expected = phcBase64(match[3] ?? '')
  if (ln === undefined || r === undefined || p === undefined) return 'unsupported'
  if (salt === undefined || expected === undefined || expected.length < 16) return 'unsupported'
  if (ln < 1 || r < 1 || p < 1) return 'unsupported'
  if (ln > 24 || r > 64 || p > 64) return 'too-costly'
  const N = 2 ** ln
  const maxmem = 128 * N * r * p + 1024 * 1024
  if (N * r * p > MAX_SCRYPT_WORK || maxmem > MAX_SCRYPT_MEMORY) return 'too-costly'
  return {
    format: 'scrypt',
    async verify(password) {
      const derived = await scryptAsync(password, salt, expected.length, { N, r, p, maxmem })
      return sameBytes(derived, expected)
    },
  }
}

function pbkdf2Hash(
  format: HashFormat,
  iterations: number,
  salt: Uint8Array,
  expected: Uint8Array,
  digest: string,
): ParsedHash | HashRefusal {
  if (iterations < 1 || expected.length < 16) return 'unsupported'
  if (iterations > (MAX_PBKDF2_ITERATIONS[digest] ?? 0)) return 'too-costly'
  return {
    format,
    async verify(password) {
      const derived = await pbkdf2Async(password, salt, iterations, expected.length, digest)
      return sameBytes(derived, expected)
    },
  }
}

/** `$pbkdf2-sha256$i=…$salt$hash` (PHC) or `$pbkdf2-sha256$29000$salt$hash` (passlib, ab64). */
function parsePhcPbkdf2(hash: string): ParsedHash | HashRefusal {
  const match =
    /^\$pbkdf2-(sha1|sha256|sha512)\$(?:i=)?(\d{1,8})(?:,l=\d{1,3})?\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)$/.exec(
      hash,
    )
  if (match === null) return 'unsupported'
  const salt = phcBase64(match[3] ?? '')
  const expected = phcBase64(match[4] ?? '')
  const digest = DIGESTS[match[1] ?? '']
  if (salt === undefined || expected === undefined || digest === undefined) return 'unsupported'
  return pbkdf2Hash('pbkdf2', Number(match[2]), salt, expected, digest)
}

/** Django: `pbkdf2_sha256$<iterations>$<salt text>$<base64 hash>` (the salt is used as text). */
function parseDjangoPbkdf2(hash: string): ParsedHash | HashRefusal {
  const match =
    /^pbkdf2_(sha1|sha256)\$(\d{1,8})\$([A-Za-z0-9]{1,128})\$([A-Za-z0-9+/]+={0,2})$/.exec(hash)
  if (match === null) return 'unsupported'
  const digest = DIGESTS[match[1] ?? '']
  if (digest === undefined) return 'unsupported'
  const expected = Buffer.from(match[4] ?? '', 'base64')
  return pbkdf2Hash(
    'django-pbkdf2',
    Number(match[2]),
    Buffer.from(match[3] ?? '', 'utf8'),
    expected,
    digest,
  )
}

const ASPNET_PRF = ['sha1', 'sha256', 'sha512'] as const

/**
 * ASP.NET Core Identity (PasswordHasher): base64 of a marker byte and PBKDF2 parameters.
 * v2 (0x00): 16-byte salt, 32-byte subkey, HMAC-SHA1, 1000 iterations.
 * v3 (0x01): PRF, iterations and salt length as big-endian uint32, then salt and subkey.
 */
function parseAspNetIdentity(hash: string): ParsedHash | HashRefusal {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(hash) || hash.length % 4 !== 0) return 'unsupported'
  const bytes = Buffer.from(hash, 'base64')
  if (bytes[0] === 0x00 && bytes.length === 49)
    return pbkdf2Hash('aspnet-identity-v2', 1000, bytes.subarray(1, 17), bytes.subarray(17), 'sha1')
  if (bytes[0] === 0x01 && bytes.length >= 13) {
    const prf = ASPNET_PRF[bytes.readUInt32BE(1)]
    const iterations = bytes.readUInt32BE(5)
    const saltLength = bytes.readUInt32BE(9)
    if (prf === undefined || saltLength < 16 || bytes.length < 13 + saltLength + 16)
      return 'unsupported'
    const salt = bytes.subarray(13, 13 + saltLength)
    return pbkdf2Hash('aspnet-identity-v3', iterations, salt, bytes.subarray(13 + saltLength), prf)
  }
  return 'unsupported'
}

/** `$2a$`, `$2b$`, `$2y$` with a cost of 4-31 and the 53 characters of salt and hash. */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/

function parseBcrypt(hash: string): ParsedHash | HashRefusal {
  const match = BCRYPT.exec(hash)
  if (match === null) return 'unsupported'
  if (Number(match[1]) > MAX_BCRYPT_COST) return 'too-costly'
  return {
    format: 'bcrypt',
    // bcryptjs compares the whole result in constant time (its safeStringCompare).
    verify: (password) => bcrypt.compare(password, hash),
  }
}

/** The hash's format and verifier, or why it is refused. */
export function readHash(hash: string): ParsedHash | HashRefusal {
  if (hash.length > 1024) return 'unsupported'
  if (hash.startsWith('$2')) return parseBcrypt(hash)
  if (hash.startsWith('$argon2')) return parseArgon2(hash)
  if (hash.startsWith('$scrypt$')) return parseScrypt(hash)
  if (hash.startsWith('$pbkdf2-')) return parsePhcPbkdf2(hash)
  if (hash.startsWith('pbkdf2_')) return parseDjangoPbkdf2(hash)
  return parseAspNetIdentity(hash)
}

/** The hash's format and verifier, or undefined for a string refused (of no format, or too costly). */
export function parseHash(hash: string): ParsedHash | undefined {
  const read = readHash(hash)
  return typeof read === 'string' ? undefined : read
}
