// OnPasswordSubmit's long-lived parts, built once per process by src/app.ts.
import { createHmac, createPublicKey, randomBytes, type KeyObject } from 'node:crypto'
import type { SharedAttempts } from './attempt-limit.js'
import type { PasswordCheck } from './check.js'
import type { PasswordSettings } from './migration.js'

export interface PasswordMigration {
  /** The decryption keys, tried in order; empty: the route answers 503 ERR_NOT_CONFIGURED. */
  readonly keys: readonly KeyObject[]
  /** How a password is checked (the configured mode); undefined: none is configured (503). */
  readonly check: PasswordCheck | undefined
  /** The public key of the first decryption key: dev mode and tests encrypt contexts with it. */
  readonly encryptionKey: KeyObject | undefined
  /** A keyed digest (hex): the attempt limit, the repeated-nonce cache and logs use it. */
  digest(text: string): string
  /** The attempt limit's shared table (OTP_STORE_CONNECTION_STRING); undefined: memory only. */
  readonly sharedAttempts: SharedAttempts | undefined
}

export function createPasswordMigration(
  settings: PasswordSettings,
  options: {
    readonly devKey?: KeyObject | undefined
    readonly hashKey?: string | undefined
    readonly sharedAttempts?: SharedAttempts | undefined
    readonly check?: PasswordCheck | undefined
  },
): PasswordMigration | undefined {
  const keys =
    settings.keys.length > 0 ? settings.keys : options.devKey === undefined ? [] : [options.devKey]
  if (keys.length === 0 && !settings.configured) return undefined
  const secret = options.hashKey === undefined ? randomBytes(32) : Buffer.from(options.hashKey)
  const first = keys[0]
  return {
    keys,
    check: options.check,
    encryptionKey: first === undefined ? undefined : createPublicKey(first),
    digest: (text) => createHmac('sha256', secret).update(`password\0${text}`).digest('hex'),
    sharedAttempts: options.sharedAttempts,
  }
}
