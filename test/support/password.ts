// OnPasswordSubmit's test material, made at test time (never committed): an RSA key in a PEM file,
// a hashes file, and contexts encrypted to the key as Entra would encrypt them.
import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  encryptPasswordContext,
  type EncryptOptions,
} from '../../src/passwords/password-context.js'

function scratch(name: string): string {
  const parent = process.env.TEST_TMP_DIR ?? tmpdir()
  mkdirSync(parent, { recursive: true })
  return join(mkdtempSync(join(parent, 'password-')), name)
}

export interface PasswordKey {
  /** The PKCS#8 PEM file of the private key. */
  readonly path: string
  readonly publicKey: KeyObject
  encrypt(
    context: { username: string; password: string; nonce?: string },
    options?: EncryptOptions,
  ): Promise<string>
}

export function writePasswordKey(
  options: { modulusLength?: number; passphrase?: string } = {},
): PasswordKey {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: options.modulusLength ?? 2048,
  })
  const pem = privateKey.export({
    type: 'pkcs8',
    format: 'pem',
    ...(options.passphrase === undefined
      ? {}
      : { cipher: 'aes-256-cbc', passphrase: options.passphrase }),
  })
  const path = scratch('key.pem')
  writeFileSync(path, pem)
  const publicKey = createPublicKey(privateKey)
  return {
    path,
    publicKey,
    encrypt: (context, encryptOptions) =>
      encryptPasswordContext({ nonce: randomUUID(), ...context }, publicKey, encryptOptions),
  }
}

/** A PASSWORD_HASHES_FILE of these lines (objects are written as JSON, strings as they are). */
export function writeHashesFile(lines: readonly (string | object)[]): string {
  const path = scratch('hashes.jsonl')
  writeFileSync(
    path,
    lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n'),
  )
  return path
}
