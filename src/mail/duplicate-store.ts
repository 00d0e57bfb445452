// Retry safety: the same (recipient, code) is e-mailed once. Entra retries a call that timed out,
// and the retry may reach another instance; the key is claimed before sending, marked sent after,
// and released when the send fails (so a retry can try again).
export type ClaimResult = 'claimed' | 'sent' | 'pending'

export interface DuplicateStore {
  /** Claims `key` for sending, unless it was sent or is being sent within its TTL. */
  claim(key: string, now: number, budgetMs: number): Promise<ClaimResult>
  markSent(key: string, now: number): Promise<void>
  release(key: string): Promise<void>
  /** The state of a key another sender holds: 'sent', 'pending', or 'free' (released/expired). */
  state(key: string, now: number, budgetMs: number): Promise<'sent' | 'pending' | 'free'>
}

interface Entry {
  state: 'pending' | 'sent'
  expiresAt: number
}

/** One instance's memory: enough when the Function App runs on one instance. */
export function createMemoryDuplicateStore(options: {
  readonly ttlMs: number
  /** A pending claim older than this is taken over (its sender died mid-send). */
  readonly pendingMs: number
  readonly maxEntries?: number
}): DuplicateStore {
  const entries = new Map<string, Entry>()
  const maxEntries = options.maxEntries ?? 100_000
  const live = (key: string, now: number) => {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (now >= entry.expiresAt) {
      entries.delete(key)
      return undefined
    }
    return entry
  }
  return {
    claim(key, now) {
      const entry = live(key, now)
      if (entry !== undefined) return Promise.resolve(entry.state)
      entries.set(key, { state: 'pending', expiresAt: now + options.pendingMs })
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next().value
        if (oldest !== undefined) entries.delete(oldest)
      }
      return Promise.resolve('claimed')
    },
    markSent(key, now) {
      entries.set(key, { state: 'sent', expiresAt: now + options.ttlMs })
      return Promise.resolve()
    },
    release(key) {
      entries.delete(key)
      return Promise.resolve()
    },
    state(key, now) {
      return Promise.resolve(live(key, now)?.state ?? 'free')
    },
  }
}

/**
 * A shared store that cannot be reached must not stop codes from going out: claims succeed,
 * the other calls do nothing, and each failure is reported (names and statuses only).
 */
export function failOpen(
  store: DuplicateStore,
  onError: (operation: string, err: unknown) => void,
): DuplicateStore {
  return {
    claim: (key, now, budgetMs) =>
      store.claim(key, now, budgetMs).catch((err: unknown) => {
        onError('claim', err)
        return 'claimed' as const
      }),
    markSent: (key, now) =>
      store.markSent(key, now).catch((err: unknown) => {
        onError('markSent', err)
      }),
    release: (key) =>
      store.release(key).catch((err: unknown) => {
        onError('release', err)
      }),
    state: (key, now, budgetMs) =>
      store.state(key, now, budgetMs).catch((err: unknown) => {
        onError('state', err)
        return 'free' as const
      }),
  }
}
