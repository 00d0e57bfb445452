// Sends per recipient in a sliding window, per instance (in memory): blunts a script that makes
// Entra send codes to one address in a loop. Keys are recipient digests, never addresses.
export interface RateLimiter {
  /** Counts one send for `key`; false when that would exceed the limit (nothing is counted). */
  take(key: string, now: number): boolean
  /** Gives back the last send counted for `key` (it failed: the user got nothing). */
  refund(key: string): void
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
        return false
      }
      recent.push(now)
      sends.delete(key)
      sends.set(key, recent)
      if (sends.size > maxKeys) {
        const oldest = sends.keys().next().value
        if (oldest !== undefined) sends.delete(oldest)
      }
      return true
    },
    refund(key) {
      sends.get(key)?.pop()
    },
  }
}
