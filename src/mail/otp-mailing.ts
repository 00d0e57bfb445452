// What OnOtpSend needs to deliver a code: the mail settings, the provider, and the stores that
// keep a code from being sent twice or too often. Built once per process by src/app.ts.
import type { DuplicateStore } from './duplicate-store.js'
import type { MailConfig } from './mail-config.js'
import type { Mailer } from './mailer.js'
import type { RateLimiter } from './rate-limit.js'
import type { RecipientKeys, StoreKeys } from './recipient-key.js'

export interface OtpMailing {
  readonly config: MailConfig
  readonly mailer: Mailer
  readonly duplicates: DuplicateStore
  readonly limiter: RateLimiter
  /** Digests for logs and this instance's in-flight map (LOG_HASH_KEY, else random per process). */
  readonly keys: RecipientKeys
  /** The keys of the store's rows: the same in every instance that shares the store. */
  readonly storeKeys: StoreKeys
}
