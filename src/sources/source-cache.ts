// A bounded in-memory cache of source answers, per source, keyed by the rendered request (so per
// user): lru-cache, least recently used evicted first. An answer past its TTL is not served, except
// as a stale fallback when the source fails, for up to staleOnErrorSeconds more.
import { LRUCache } from 'lru-cache'

export interface CacheEntry {
  readonly value: unknown
  readonly storedAt: number
}

export interface SourceCache {
  /** A fresh answer, or undefined. */
  fresh(key: string): unknown
  /** An answer past its TTL but within the stale window, or undefined. */
  stale(key: string): CacheEntry | undefined
  set(key: string, value: unknown): void
  readonly size: number
}

export function createSourceCache(options: {
  readonly ttlMs: number
  readonly staleMs: number
  readonly maxEntries: number
  /** The endpoint's clock (tests move it). */
  readonly now: () => number
}): SourceCache {
  const { ttlMs, staleMs, now } = options
  const entries = new LRUCache<string, CacheEntry>({
    max: options.maxEntries,
    ttl: ttlMs,
    // An expired answer stays (until evicted) for the stale fallback, which reads it with
    // allowStale and judges its age against the stale window.
    noDeleteOnStaleGet: true,
    perf: { now },
  })
  return {
    fresh: (key) => entries.get(key)?.value,
    stale(key) {
      const entry = entries.get(key, { allowStale: true })
      if (entry === undefined) return undefined
      if (now() - entry.storedAt >= ttlMs + staleMs) {
        entries.delete(key)
        return undefined
      }
      return entry
    },
    set(key, value) {
      entries.set(key, { value, storedAt: now() })
    },
    get size() {
      return entries.size
    },
  }
}
