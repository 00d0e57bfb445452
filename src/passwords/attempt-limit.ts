// OnPasswordSubmit's attempt limit per username. Each instance always counts in memory; with a
// table store (OTP_STORE_CONNECTION_STRING, or else a table of PASSWORD_HASHES_CONNECTION_STRING's
// account: src/app.ts) the attempts are also counted in the shared table by
// OnOtpSend's limiter (ETag read-modify-write, src/mail/table-rate-limit.ts), so that N instances
// allow the limit, not N times it. When the table cannot be reached in time the shared count is
// skipped (failOpenLimiter, reported by name) and the instance's own count still holds: an
// unreachable store weakens the limit to one per instance, it never lifts it.
import { performance } from 'node:perf_hooks'
import type { OtpStoreConfig } from '../config.js'
import type { Logger } from '../log.js'
import type { Lazy } from '../lazy.js'
import { lazy, lazyPart, lazyRateLimiter } from '../lazy.js'
import { createRateLimiter, failOpenLimiter, type RateLimiter } from '../mail/rate-limit.js'
import {
  createRecipientKeys,
  fixedStoreKeys,
  loadedStoreKeys,
  type StoreKeys,
} from '../mail/recipient-key.js'

export interface AttemptLimitOptions {
  readonly max: number
  readonly windowMs: number
}

/** The shared table's side of the limit: a limiter on it, and the keys its rows are named with. */
export interface SharedAttempts {
  limiter(options: AttemptLimitOptions): RateLimiter
  readonly keys: StoreKeys
}

export interface AttemptLimit {
  /**
   * Counts one attempt for `username` (normalised; `localKey` is its digest in this process's
   * memory); false when it is over the limit. `budgetMs` bounds the shared table's calls.
   */
  take(username: string, localKey: string, now: number, budgetMs: number): Promise<boolean>
}

/** Apart from OnOtpSend's rows in the same table ("rate-…", two hex digits, "config"). */
const PARTITION_PREFIX = 'password'
/** How long the warm-up waits for the store's key: a few table calls. */
const STORE_KEY_WARM_UP_MS = 2000

/** A table for the limit (the OTP store's, or one in the hashes' account), its library loaded in the background. */
export function openSharedAttempts(
  store: OtpStoreConfig,
  logHashKey: string | undefined,
  log: Logger,
  warm: Promise<void>[],
): SharedAttempts {
  const unavailable = (operation: string, err: unknown) =>
    log.warn('password_store_unavailable', {
      operation,
      reason: err instanceof Error ? err.name : 'unknown',
    })
  const table: Lazy<{
    readonly limiter: (options: AttemptLimitOptions) => RateLimiter
    readonly sharedKey: (budgetMs: number) => Promise<Buffer>
  }> = lazy(async () => {
    const [{ openOtpTable }, { createTableRateLimiter }, { readOrCreateSharedKey }] =
      await Promise.all([
        import('../mail/otp-table.js'),
        import('../mail/table-rate-limit.js'),
        import('../mail/table-key.js'),
      ])
    const opened = openOtpTable(store)
    return {
      limiter: (options) =>
        createTableRateLimiter(opened, { ...options, partitionPrefix: PARTITION_PREFIX }),
      sharedKey: (budgetMs) => readOrCreateSharedKey(opened, budgetMs),
    }
  })
  warm.push(table.ready)
  const limiter = (options: AttemptLimitOptions) =>
    failOpenLimiter(lazyRateLimiter(lazyPart(table, (t) => t.limiter(options))), unavailable)
  if (logHashKey !== undefined)
    return { limiter, keys: fixedStoreKeys(createRecipientKeys(logHashKey)) }
  const shared = loadedStoreKeys(
    async (budgetMs) => (await table.value).sharedKey(budgetMs),
    (err) => unavailable('key', err),
    STORE_KEY_WARM_UP_MS,
  )
  warm.push(shared.ready)
  return { limiter, keys: shared.keys }
}

export function createAttemptLimit(
  options: AttemptLimitOptions,
  shared: SharedAttempts | undefined,
): AttemptLimit {
  const local = createRateLimiter(options)
  const table = shared?.limiter(options)
  return {
    async take(username, localKey, now, budgetMs) {
      if (!(await local.take(localKey, now, budgetMs))) return false
      if (shared === undefined || table === undefined) return true
      const until = performance.now() + budgetMs
      const keys = await shared.keys(budgetMs)
      if (keys === undefined) return true // reported by the key loader; the local count held
      const left = Math.max(1, until - performance.now())
      return table.take(keys.recipient(`password\0${username}`), now, left)
    },
  }
}
