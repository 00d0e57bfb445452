// data.encryptedPasswordContext (docs/entra-contract.md §6b): a compact JWE to the extension's
// encryption key. Decrypted with jose under an explicit allowlist of algorithms; its plaintext is
// a JSON object or a nested unsigned JWT (Microsoft's sample decodes it as `alg: none`), whose
// payload is decoded, never "verified". Any failure is one fixed answer: the caller learns
// nothing that would help it probe the key or the format (no oracle).
import type { KeyObject } from 'node:crypto'
import { CompactEncrypt, compactDecrypt, decodeJwt, UnsecuredJWT } from 'jose'
import * as z from 'zod'
import { EndpointError } from '../errors.js'
import { keysFor, type DecryptionKey } from './decryption-keys.js'

export const KEY_MANAGEMENT_ALGORITHMS = ['RSA-OAEP', 'RSA-OAEP-256'] as const
export const CONTENT_ENCRYPTION_ALGORITHMS = [
  'A128GCM',
  'A192GCM',
  'A256GCM',
  'A128CBC-HS256',
  'A256CBC-HS512',
] as const

/** The decrypted claims. The password and username are secrets: never logged, never echoed. */
export interface PasswordContext {
  readonly password: string
  readonly username: string
  readonly nonce: string
}

const ClaimsSchema = z.object({
  'user-password': z.string().min(1).max(1024),
  username: z.string().min(1).max(320),
  nonce: z.string().min(1).max(128),
})

/** A compact JWE: five base64url parts (the second, the encrypted key, is never empty for RSA). */
const COMPACT_JWE =
  /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
/** Generous for a 4096-bit RSA key and a 1 KB password: a bound, not an estimate. */
export const MAX_PASSWORD_CONTEXT_LENGTH = 16_384

export const invalidPasswordContext = () =>
  new EndpointError('ERR_INVALID_PASSWORD_CONTEXT', 'the password context cannot be read')

function readPlaintext(plaintext: Uint8Array): unknown {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext).trim()
  if (text.startsWith('{')) return JSON.parse(text) as unknown
  return decodeJwt(text) // the payload only: an unsigned JWT has nothing to verify
}

/**
 * Decrypts with each key in turn (two during a rotation: the one the header names first); throws
 * the one fixed error.
 */
export async function decryptPasswordContext(
  jwe: string,
  keys: readonly DecryptionKey[],
): Promise<PasswordContext> {
  // Not a compact JWE, or too long: the same answer as any other context that does not decrypt.
  if (jwe.length > MAX_PASSWORD_CONTEXT_LENGTH || !COMPACT_JWE.test(jwe))
    throw invalidPasswordContext()
  for (const { key } of keysFor(jwe, keys)) {
    let plaintext: Uint8Array
    try {
      ;({ plaintext } = await compactDecrypt(jwe, key, {
        keyManagementAlgorithms: [...KEY_MANAGEMENT_ALGORITHMS],
        contentEncryptionAlgorithms: [...CONTENT_ENCRYPTION_ALGORITHMS],
      }))
    } catch {
      continue // the wrong key (or a broken JWE): the next key, if any
    }
    try {
      const claims = ClaimsSchema.parse(readPlaintext(plaintext))
      return {
        password: claims['user-password'],
        username: claims.username,
        nonce: claims.nonce,
      }
    } catch {
      break
    }
  }
  throw invalidPasswordContext()
}

/** The context of each request, decrypted once whoever asks first (handler, view, answer check). */
const decrypted = new WeakMap<object, Promise<PasswordContext>>()
/** The context of each request once read: the view reads it, the answer must carry its nonce. */
const contexts = new WeakMap<object, PasswordContext>()

export function passwordContextOf(
  event: object,
  jwe: string,
  keys: readonly DecryptionKey[],
): Promise<PasswordContext> {
  let context = decrypted.get(event)
  if (context === undefined) {
    context = decryptPasswordContext(jwe, keys).then((value) => {
      contexts.set(event, value)
      return value
    })
    decrypted.set(event, context)
  }
  return context
}

/** The context of a request once decrypted (passwordContextOf), else undefined. */
export const decryptedContextOf = (event: object): PasswordContext | undefined =>
  contexts.get(event)

export interface EncryptOptions {
  readonly alg?: (typeof KEY_MANAGEMENT_ALGORITHMS)[number]
  readonly enc?: (typeof CONTENT_ENCRYPTION_ALGORITHMS)[number]
  /** The plaintext as a nested unsigned JWT (as Microsoft's sample reads it) instead of JSON. */
  readonly nested?: boolean
  /** Names the key in the header, as Entra may (a rotation test). */
  readonly kid?: string
  readonly x5t?: string
}

/** Encrypts a context as Entra does: for dev mode, replay and tests (src/testing). */
export async function encryptPasswordContext(
  context: PasswordContext,
  publicKey: KeyObject,
  options: EncryptOptions = {},
): Promise<string> {
  const claims = {
    'user-password': context.password,
    username: context.username,
    nonce: context.nonce,
  }
  const plaintext =
    options.nested === true ? new UnsecuredJWT(claims).encode() : JSON.stringify(claims)
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({
      alg: options.alg ?? 'RSA-OAEP-256',
      enc: options.enc ?? 'A256GCM',
      ...(options.kid === undefined ? {} : { kid: options.kid }),
      ...(options.x5t === undefined ? {} : { x5t: options.x5t }),
    })
    .encrypt(publicKey)
}
