// A bounded in-memory cache of source answers, per source, keyed by the rendered request (so per
// user). Least recently used entries are evicted first (a Map keeps insertion order: a hit is
// re-inserted at the end). An entry past its TTL is not served, except as a stale fallback when
// the source fails, for up to staleOnErrorSeconds more.
export interface CacheEntry {
  readonly value: unknown
  readonly storedAt: number
}

export interface SourceCache {
  /** A fresh answer, or undefined. */
  fresh(key: string, now: number): unknown
  /** An answer past its TTL but within the stale window, or undefined. */
  stale(key: string, now: number): CacheEntry | undefined
  set(key: string, value: unknown, now: number): void
  readonly size: number
}

export function createSourceCache(options: {
  readonly ttlMs: number
  readonly staleMs: number
  readonly maxEntries: number
}): SourceCache {
  const entries = new Map<string, CacheEntry>()
  const { ttlMs, staleMs, maxEntries } = options
  return {
    fresh(key, now) {
      const entry = entries.get(key)
      if (entry === undefined || now - entry.storedAt >= ttlMs) return undefined
      entries.delete(key) // most recently used goes last
      entries.set(key, entry)
      return entry.value
    },
    stale(key, now) {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (now - entry.storedAt >= ttlMs + staleMs) {
        entries.delete(key)
        return undefined
      }
      return entry
    },
    set(key, value, now) {
      entries.delete(key)
      entries.set(key, { value, storedAt: now })
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value
        if (oldest === undefined) break
        entries.delete(oldest)
      }
    },
    get size() {
      return entries.size
    },
  }
}
