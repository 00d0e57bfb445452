// What OnPasswordSubmit needs from the environment, loaded at start-up (src/config.ts): the
// decryption keys (two during a rotation; a PEM or PFX file, or where in Key Vault) and where the
// legacy hashes are. Fails closed: every problem names its variable, never a value.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { keyFromPem, keyFromPfx, KeyProblem, type DecryptionKey } from './decryption-keys.js'
import type { ParsedHash } from './hash-formats.js'
import { readHashesFile } from './hashes-file.js'
import { readSettingFile } from '../read-setting-file.js'
import type { PasswordCheckMode } from '../extension-config/password-submit.js'

export interface PasswordSettings {
  /** PASSWORD_DECRYPTION_KEY_PATH's keys; empty when unset (the route answers 503). */
  readonly keys: readonly DecryptionKey[]
  /** PASSWORD_DECRYPTION_KEY_VAULT_URL's certificates, read at start (key-vault.ts). */
  readonly keyVault: KeyVaultSettings | undefined
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

const KEY_PATH = 'PASSWORD_DECRYPTION_KEY_PATH'

function readKey(path: string, passphrase: string | undefined, problems: string[]) {
  const text = readSettingFile(path, KEY_PATH, problems)
  if (text === undefined) return undefined
  try {
    if (text.includes('-----BEGIN')) return keyFromPem(text, passphrase)
    return keyFromPfx(readFileSync(path), passphrase)
  } catch (err) {
    if (!(err instanceof KeyProblem)) throw err
    problems.push(
      err.message === 'passphrase required'
        ? 'PASSWORD_DECRYPTION_KEY_PASSPHRASE: is required for an encrypted key'
        : `${KEY_PATH}: ${err.message.replace('the passphrase', 'PASSWORD_DECRYPTION_KEY_PASSPHRASE')}`,
    )
    return undefined
  }
}

export interface KeyVaultSettings {
  readonly vaultUrl: string
  /** One name, or two during a rotation. */
  readonly certificateNames: readonly string[]
  /** AZURE_CLIENT_ID: a user-assigned managed identity; else the system-assigned one. */
  readonly clientId: string | undefined
}

export function readPasswordSettings(
  env: {
    readonly PASSWORD_DECRYPTION_KEY_PATH?: readonly string[] | undefined
    readonly PASSWORD_DECRYPTION_KEY_PASSPHRASE?: string | undefined
    readonly PASSWORD_HASHES_FILE?: string | undefined
    readonly PASSWORD_HASHES_CONNECTION_STRING?: string | undefined
    readonly PASSWORD_HASHES_TABLE: string
    readonly PASSWORD_DECRYPTION_KEY_VAULT_URL?: string | undefined
    readonly PASSWORD_DECRYPTION_CERT_NAME?: readonly string[] | undefined
    readonly AZURE_CLIENT_ID?: string | undefined
    readonly AZURE_CLIENT_SECRET?: string | undefined
    readonly AZURE_CLIENT_CERTIFICATE_PATH?: string | undefined
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
  const vaultUrl = env.PASSWORD_DECRYPTION_KEY_VAULT_URL
  const certificateNames = env.PASSWORD_DECRYPTION_CERT_NAME
  if (vaultUrl !== undefined && env.PASSWORD_DECRYPTION_KEY_PATH !== undefined) {
    problems.push(
      'PASSWORD_DECRYPTION_KEY_VAULT_URL: set it or PASSWORD_DECRYPTION_KEY_PATH, not both',
    )
    return emptySettings
  }
  if ((vaultUrl === undefined) !== (certificateNames === undefined)) {
    problems.push(
      vaultUrl === undefined
        ? 'PASSWORD_DECRYPTION_KEY_VAULT_URL: is required with PASSWORD_DECRYPTION_CERT_NAME'
        : 'PASSWORD_DECRYPTION_CERT_NAME: is required with PASSWORD_DECRYPTION_KEY_VAULT_URL',
    )
    return emptySettings
  }
  const keys: DecryptionKey[] = []
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
    keyVault:
      vaultUrl === undefined || certificateNames === undefined
        ? undefined
        : Object.freeze({
            vaultUrl,
            certificateNames,
            // AZURE_CLIENT_ID names a user-assigned identity only when alone (config.ts, Graph).
            clientId:
              env.AZURE_CLIENT_SECRET === undefined &&
              env.AZURE_CLIENT_CERTIFICATE_PATH === undefined
                ? env.AZURE_CLIENT_ID
                : undefined,
          }),
    hashesTable:
      table === undefined
        ? undefined
        : Object.freeze({ connectionString: table, tableName: env.PASSWORD_HASHES_TABLE }),
    mode,
    configured:
      env.PASSWORD_DECRYPTION_KEY_PATH !== undefined ||
      vaultUrl !== undefined ||
      file !== undefined ||
      table !== undefined ||
      mode !== 'hashes',
  })
}

const emptySettings: PasswordSettings = Object.freeze({
  keys: [],
  keyVault: undefined,
  hashes: undefined,
  hashesTable: undefined,
  mode: 'hashes',
  configured: false,
})
