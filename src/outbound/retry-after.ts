/**
 * Retry-After (RFC 9110 §10.2.3) in ms: delay-seconds or an HTTP date. `fallbackMs` when the
 * header is absent or unreadable: the endpoint's Graph source waits briefly inside Entra's
 * deadline, the operator tools wait longer.
 */
export function retryAfterMs(
  header: string | null | undefined,
  fallbackMs: number,
  now: number = Date.now(),
): number {
  if (header === null || header === undefined) return fallbackMs
  const trimmed = header.trim()
  if (/^\d{1,9}$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? fallbackMs : Math.max(0, at - now)
}
