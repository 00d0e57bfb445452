// Sends per recipient in a sliding window: blunts a script that makes Entra send codes to one
// address in a loop. In memory per instance without an OTP store; with one, counted in the shared
// table (src/mail/table-rate-limit.ts), so N instances allow the limit, not N times it. Keys are
// recipient digests, never addresses.
export interface RateLimiter {
  /**
   * Counts one send at `now` for `key`; false when that would exceed the limit (nothing is
   * counted). `budgetMs` bounds the time a shared store may take.
   */
  take(key: string, now: number, budgetMs: number): Promise<boolean>
  /** Gives back the send counted at `at` for `key` (it failed: the user got nothing). */
  refund(key: string, at: number): Promise<void>
}

/** Drops `at` once from `sends` (the latest such entry); unchanged when absent. */
export function withoutSend(sends: readonly number[], at: number): number[] {
  const index = sends.lastIndexOf(at)
  return index < 0 ? [...sends] : [...sends.slice(0, index), ...sends.slice(index + 1)]
}

export function createRateLimiter(options: {
  readonly max: number
  readonly windowMs: number
  readonly maxKeys?: number
}): RateLimiter {
  const sends = new Map<string, number[]>()
  const maxKeys = options.maxKeys ?? 100_000
  return {
    take(key, now) {
      const recent = (sends.get(key) ?? []).filter((at) => now - at < options.windowMs)
      if (recent.length >= options.max) {
        sends.set(key, recent)
        return Promise.resolve(false)
      }
      recent.push(now)
      sends.delete(key)
      sends.set(key, recent)
      if (sends.size > maxKeys) {
        const oldest = sends.keys().next().value
        if (oldest !== undefined) sends.delete(oldest)
      }
      return Promise.resolve(true)
    },
    refund(key, at) {
      const recent = sends.get(key)
      if (recent !== undefined) sends.set(key, withoutSend(recent, at))
      return Promise.resolve()
    },
  }
}

/**
 * A shared limit whose store cannot be reached must not stop codes from going out (as the
 * duplicate check): the send is allowed, and each failure is reported (names only).
 */
export function failOpenLimiter(
  limiter: RateLimiter,
  onError: (operation: string, err: unknown) => void,
): RateLimiter {
  return {
    take: (key, now, budgetMs) =>
      limiter.take(key, now, budgetMs).catch((err: unknown) => {
        onError('rateLimit', err)
        return true
      }),
    refund: (key, at) =>
      limiter.refund(key, at).catch((err: unknown) => {
        onError('refund', err)
      }),
  }
}
