// What OnPasswordSubmit needs from the environment, loaded at start-up (src/config.ts): the
// decryption keys (two during a rotation) and where the legacy hashes are. Fails closed: every problem
// names its variable, never a value.
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { resolve } from 'node:path'
import type { ParsedHash } from './hash-formats.js'
import { readHashesFile } from './hashes-file.js'
import { readSettingFile } from '../read-setting-file.js'
import type { PasswordCheckMode } from '../extension-config/password-submit.js'

export interface PasswordSettings {
  /** PASSWORD_DECRYPTION_KEY_PATH's keys; empty when unset (the route answers 503). */
  readonly keys: readonly KeyObject[]
  /** PASSWORD_HASHES_FILE's users by normalised username; undefined when unset. */
  readonly hashes: ReadonlyMap<string, ParsedHash> | undefined
  /** PASSWORD_HASHES_CONNECTION_STRING and its table; undefined when unset. */
  readonly hashesTable:
    { readonly connectionString: string; readonly tableName: string } | undefined
  /** passwordSubmit.check.mode of EXTENSION_CONFIG (`hashes` by default). */
  readonly mode: PasswordCheckMode
  /** Whether OnPasswordSubmit is set up at all: health then waits for the key. */
  readonly configured: boolean
}

function readKey(path: string, passphrase: string | undefined, problems: string[]) {
  const pem = readSettingFile(path, 'PASSWORD_DECRYPTION_KEY_PATH', problems)
  if (pem === undefined) return undefined
  if (!pem.includes('-----BEGIN')) {
    problems.push(
      'PASSWORD_DECRYPTION_KEY_PATH: must be a PEM file (PKCS#8 RSA private key); convert a PFX with openssl pkcs12 -nocerts -nodes',
    )
    return undefined
  }
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) })
  } catch {
    problems.push(
      passphrase === undefined && pem.includes('ENCRYPTED')
        ? 'PASSWORD_DECRYPTION_KEY_PASSPHRASE: is required for an encrypted key'
        : 'PASSWORD_DECRYPTION_KEY_PATH: is not a readable RSA private key (or PASSWORD_DECRYPTION_KEY_PASSPHRASE is wrong)',
    )
    return undefined
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048) {
    problems.push('PASSWORD_DECRYPTION_KEY_PATH: must be an RSA private key of 2048 bits or more')
    return undefined
  }
  return key
}

export function readPasswordSettings(
  env: {
    readonly PASSWORD_DECRYPTION_KEY_PATH?: readonly string[] | undefined
    readonly PASSWORD_DECRYPTION_KEY_PASSPHRASE?: string | undefined
    readonly PASSWORD_HASHES_FILE?: string | undefined
    readonly PASSWORD_HASHES_CONNECTION_STRING?: string | undefined
    readonly PASSWORD_HASHES_TABLE: string
  },
  mode: PasswordCheckMode,
  cwd: string,
  problems: string[],
): PasswordSettings {
  const file = env.PASSWORD_HASHES_FILE
  const table = env.PASSWORD_HASHES_CONNECTION_STRING
  if (file !== undefined && table !== undefined) {
    problems.push('PASSWORD_HASHES_FILE: set it or PASSWORD_HASHES_CONNECTION_STRING, not both')
    return emptySettings
  }
  if (mode !== 'hashes' && (file !== undefined || table !== undefined)) {
    problems.push(
      `${file !== undefined ? 'PASSWORD_HASHES_FILE' : 'PASSWORD_HASHES_CONNECTION_STRING'}: is read in hashes mode only, and EXTENSION_CONFIG passwordSubmit.check.mode is "${mode}"`,
    )
    return emptySettings
  }
  const keys: KeyObject[] = []
  for (const path of env.PASSWORD_DECRYPTION_KEY_PATH ?? []) {
    const key = readKey(resolve(cwd, path), env.PASSWORD_DECRYPTION_KEY_PASSPHRASE, problems)
    if (key !== undefined) keys.push(key)
  }
  const hashes =
    env.PASSWORD_HASHES_FILE === undefined
      ? undefined
      : readHashesFile(resolve(cwd, env.PASSWORD_HASHES_FILE), problems)
  return Object.freeze({
    keys: Object.freeze(keys),
    hashes,
    hashesTable:
      table === undefined
        ? undefined
        : Object.freeze({ connectionString: table, tableName: env.PASSWORD_HASHES_TABLE }),
    mode,
    configured:
      env.PASSWORD_DECRYPTION_KEY_PATH !== undefined ||
      file !== undefined ||
      table !== undefined ||
      mode !== 'hashes',
  })
}

const emptySettings: PasswordSettings = Object.freeze({
  keys: [],
  hashes: undefined,
  hashesTable: undefined,
  mode: 'hashes',
  configured: false,
})
