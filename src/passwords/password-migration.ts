// OnPasswordSubmit's long-lived parts, built once per process by src/app.ts.
import { createHmac, createPublicKey, randomBytes, type KeyObject } from 'node:crypto'
import type { Logger } from '../log.js'
import type { SharedAttempts } from './attempt-limit.js'
import type { PasswordCheck } from './check.js'
import { decryptionKey, KeyProblem, type DecryptionKey } from './decryption-keys.js'
import type { KeyVaultSettings, PasswordSettings } from './migration.js'

export interface PasswordMigration {
  /** The decryption keys, tried in order; empty: the route answers 503 ERR_NOT_CONFIGURED. */
  readonly keys: readonly DecryptionKey[]
  /** How a password is checked (the configured mode); undefined: none is configured (503). */
  readonly check: PasswordCheck | undefined
  /** The public key of the first decryption key: dev mode and tests encrypt contexts with it. */
  readonly encryptionKey: KeyObject | undefined
  /** A keyed digest (hex, LOG_HASH_KEY when set): the attempt limit and logs use it (the repeat cache has its own per-process key). */
  digest(text: string): string
  /** The attempt limit's shared table (the OTP store's, or one in PASSWORD_HASHES_CONNECTION_STRING's account); undefined: memory only. */
  readonly sharedAttempts: SharedAttempts | undefined
}

/** One read of the vault at start may take this long; the host's warm-up waits for it. */
const KEY_VAULT_TIMEOUT_MS = 15_000
/** After a failed read, the next one. */
const KEY_VAULT_RETRY_MS = 30_000

export function createPasswordMigration(
  settings: PasswordSettings,
  options: {
    readonly devKey?: KeyObject | undefined
    readonly hashKey?: string | undefined
    readonly sharedAttempts?: SharedAttempts | undefined
    readonly check?: PasswordCheck | undefined
    readonly log?: Logger | undefined
    /** The host's warm-up: the first Key Vault read joins it. */
    readonly warm?: Promise<void>[] | undefined
  },
): PasswordMigration | undefined {
  let keys: readonly DecryptionKey[] =
    settings.keys.length > 0 || settings.keyVault !== undefined
      ? settings.keys
      : options.devKey === undefined
        ? []
        : [decryptionKey(options.devKey, undefined)]
  if (keys.length === 0 && !settings.configured) return undefined
  if (settings.keyVault !== undefined)
    options.warm?.push(
      loadFromVault(settings.keyVault, options.log, (loaded) => {
        keys = loaded
      }),
    )
  const secret = options.hashKey === undefined ? randomBytes(32) : Buffer.from(options.hashKey)
  return {
    get keys() {
      return keys
    },
    check: options.check,
    get encryptionKey() {
      const first = keys[0]
      return first === undefined ? undefined : createPublicKey(first.key)
    },
    digest: (text) => createHmac('sha256', secret).update(`password\0${text}`).digest('hex'),
    sharedAttempts: options.sharedAttempts,
  }
}

/** Reads the vault until it works (the first attempt's promise settles, never rejects). */
function loadFromVault(
  settings: KeyVaultSettings,
  log: Logger | undefined,
  onLoaded: (keys: readonly DecryptionKey[]) => void,
): Promise<void> {
  const attempt = async (): Promise<void> => {
    try {
      const { readKeyVaultKeys } = await import('./key-vault.js')
      const loaded = await readKeyVaultKeys(settings, AbortSignal.timeout(KEY_VAULT_TIMEOUT_MS))
      onLoaded(Object.freeze(loaded))
      log?.info('password_key_loaded', {
        source: 'keyVault',
        keys: loaded.length,
        thumbprints: loaded.map((key) => key.thumbprint ?? 'none').join(','),
      })
    } catch (err) {
      // Names and statuses only: an SDK message may quote the vault's answer.
      log?.warn('password_key_failed', {
        source: 'keyVault',
        reason:
          err instanceof KeyProblem ? err.message : err instanceof Error ? err.name : 'unknown',
        status: statusOf(err),
        retryInMs: KEY_VAULT_RETRY_MS,
      })
      setTimeout(() => void attempt(), KEY_VAULT_RETRY_MS).unref()
    }
  }
  return attempt()
}

const statusOf = (err: unknown) =>
  typeof err === 'object' && err !== null && 'statusCode' in err
    ? Number((err as { statusCode?: unknown }).statusCode)
    : undefined
