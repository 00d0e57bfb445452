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

/** Bounds that keep one verification within a request's budget and memory. */
const MAX_PBKDF2_ITERATIONS = 10_000_000
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
const MAX_ARGON2_MEMORY_KIB = 256 * 1024
const MAX_ARGON2_TIME = 64

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
function parseArgon2(hash: string): ParsedHash | undefined {
  const match =
    /^\$(argon2id|argon2i)\$v=19\$([a-z0-9=,]+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(hash)
  if (match === null) return undefined
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
    iterations > MAX_ARGON2_TIME ||
    parallelism < 1 ||
    parallelism > 16 ||
    memorySize < 8 * parallelism ||
    memorySize > MAX_ARGON2_MEMORY_KIB
  )
    return undefined
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
function parseScrypt(hash: string): ParsedHash | undefined {
  const match = /^\$scrypt\$([a-z0-9=,]+)\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)$/.exec(hash)
  if (match === null) return undefined
  const params = phcParams(match[1] ?? '')
  const ln = params?.get('ln')
  const r = params?.get('r')
  const p = params?.get('p')
  const salt = phcBase64(match[2] ?? '')
  const expected = phcBase64(match[3] ?? '')
  if (ln === undefined || r === undefined || p === undefined) return undefined
  if (salt === undefined || expected === undefined || expected.length < 16) return undefined
  if (ln < 1 || ln > 24 || r < 1 || r > 64 || p < 1 || p > 64) return undefined
  const N = 2 ** ln
  const maxmem = 128 * N * r * p + 1024 * 1024
  if (maxmem > MAX_SCRYPT_MEMORY) return undefined
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
): ParsedHash | undefined {
  if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS || expected.length < 16) return undefined
  return {
    format,
    async verify(password) {
      const derived = await pbkdf2Async(password, salt, iterations, expected.length, digest)
      return sameBytes(derived, expected)
    },
  }
}

/** `$pbkdf2-sha256$i=…$salt$hash` (PHC) or `$pbkdf2-sha256$29000$salt$hash` (passlib, ab64). */
function parsePhcPbkdf2(hash: string): ParsedHash | undefined {
  const match =
    /^\$pbkdf2-(sha1|sha256|sha512)\$(?:i=)?(\d{1,8})(?:,l=\d{1,3})?\$([A-Za-z0-9+/.]+)\$([A-Za-z0-9+/.]+)$/.exec(
      hash,
    )
  if (match === null) return undefined
  const salt = phcBase64(match[3] ?? '')
  const expected = phcBase64(match[4] ?? '')
  const digest = DIGESTS[match[1] ?? '']
  if (salt === undefined || expected === undefined || digest === undefined) return undefined
  return pbkdf2Hash('pbkdf2', Number(match[2]), salt, expected, digest)
}

/** Django: `pbkdf2_sha256$<iterations>$<salt text>$<base64 hash>` (the salt is used as text). */
function parseDjangoPbkdf2(hash: string): ParsedHash | undefined {
  const match =
    /^pbkdf2_(sha1|sha256)\$(\d{1,8})\$([A-Za-z0-9]{1,128})\$([A-Za-z0-9+/]+={0,2})$/.exec(hash)
  if (match === null) return undefined
  const digest = DIGESTS[match[1] ?? '']
  if (digest === undefined) return undefined
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
function parseAspNetIdentity(hash: string): ParsedHash | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(hash) || hash.length % 4 !== 0) return undefined
  const bytes = Buffer.from(hash, 'base64')
  if (bytes[0] === 0x00 && bytes.length === 49)
    return pbkdf2Hash('aspnet-identity-v2', 1000, bytes.subarray(1, 17), bytes.subarray(17), 'sha1')
  if (bytes[0] === 0x01 && bytes.length >= 13) {
    const prf = ASPNET_PRF[bytes.readUInt32BE(1)]
    const iterations = bytes.readUInt32BE(5)
    const saltLength = bytes.readUInt32BE(9)
    if (prf === undefined || saltLength < 16 || bytes.length < 13 + saltLength + 16)
      return undefined
    const salt = bytes.subarray(13, 13 + saltLength)
    return pbkdf2Hash('aspnet-identity-v3', iterations, salt, bytes.subarray(13 + saltLength), prf)
  }
  return undefined
}

/** `$2a$`, `$2b$`, `$2y$` with a cost of 4-31 and the 53 characters of salt and hash. */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/

function parseBcrypt(hash: string): ParsedHash | undefined {
  if (!BCRYPT.test(hash)) return undefined
  return {
    format: 'bcrypt',
    // bcryptjs compares the whole result in constant time (its safeStringCompare).
    verify: (password) => bcrypt.compare(password, hash),
  }
}

/** The hash's format and verifier, or undefined for a string no format here accepts. */
export function parseHash(hash: string): ParsedHash | undefined {
  if (hash.length > 1024) return undefined
  if (hash.startsWith('$2')) return parseBcrypt(hash)
  if (hash.startsWith('$argon2')) return parseArgon2(hash)
  if (hash.startsWith('$scrypt$')) return parseScrypt(hash)
  if (hash.startsWith('$pbkdf2-')) return parsePhcPbkdf2(hash)
  if (hash.startsWith('pbkdf2_')) return parseDjangoPbkdf2(hash)
  return parseAspNetIdentity(hash)
}
