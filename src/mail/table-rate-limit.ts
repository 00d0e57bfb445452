// The per-recipient rate limit shared by every instance, in the OTP store's table: one row per
// recipient digest holding the send times of the window. Each send is one read-modify-write made
// atomic with ETags (insert when absent, If-Match replace when present); a 409 or 412 means another
// instance wrote first, so it reads again, a bounded number of times within the call's budget.
// A send that loses every race is refused: only concurrent sends to one address contend, which
// is what the limit is for. A table that cannot be reached throws (the caller fails open).
import { performance } from 'node:perf_hooks'
import type { TableEntity } from '@azure/data-tables'
import { statusOf } from '../outbound/table-errors.js'
import type { OtpTable } from './otp-table.js'
import { withoutSend, type RateLimiter } from './rate-limit.js'

/** Read-modify-write attempts per send; each takes two table calls. */
export const MAX_ATTEMPTS = 4
/** A refund runs after the answer, in the background: it has its own budget. */
const REFUND_BUDGET_MS = 1000

interface Row {
  /** Send times (ms since the epoch) within the window, oldest first, comma-separated. */
  sends: string
  /** When the last send leaves the window: the row means nothing after it. */
  expiresAt: number
}

export class RateLimitStoreTimeout extends Error {
  override readonly name = 'RateLimitStoreTimeout'
}

const parse = (sends: string) =>
  sends === '' ? [] : sends.split(',').map(Number).filter(Number.isFinite)

export function createTableRateLimiter(
  table: OtpTable,
  options: {
    readonly max: number
    readonly windowMs: number
    /** Of the rows' partitions ("rate"): another limit in the same table takes its own. */
    readonly partitionPrefix?: string
  },
): RateLimiter {
  const { client, timeout, ensureTable } = table
  // Apart from the message rows (two hex digits) and the key row ("config").
  const prefix = options.partitionPrefix ?? 'rate'
  const partition = (key: string) => `${prefix}-${key.slice(0, 2)}`

  async function read(key: string, budgetMs: number) {
    try {
      const found = await client.getEntity<Row>(partition(key), key, timeout(budgetMs))
      return { sends: parse(found.sends), etag: found.etag }
    } catch (err) {
      if (statusOf(err) === 404) return undefined
      throw err
    }
  }

  /** Writes `sends` over what was read (etag) or into an absent row; false when someone else won. */
  async function write(
    key: string,
    sends: readonly number[],
    etag: string | undefined,
    budgetMs: number,
  ): Promise<boolean> {
    const row: TableEntity<Row> = {
      partitionKey: partition(key),
      rowKey: key,
      sends: sends.join(','),
      expiresAt: (sends.at(-1) ?? 0) + options.windowMs,
    }
    try {
      if (etag === undefined) await client.createEntity(row, timeout(budgetMs))
      else await client.updateEntity(row, 'Replace', { etag, ...timeout(budgetMs) })
      return true
    } catch (err) {
      const status = statusOf(err)
      if (status === 409 || status === 412 || status === 404) return false
      throw err
    }
  }

  /** Runs `change` on the row until a write sticks; undefined when every attempt lost a race. */
  async function update(
    key: string,
    budgetMs: number,
    change: (sends: number[]) => number[] | 'stop',
  ): Promise<'written' | 'stopped' | undefined> {
    const until = performance.now() + budgetMs
    const left = () => {
      const ms = until - performance.now()
      if (ms < 1) throw new RateLimitStoreTimeout('the rate limit store took the whole budget')
      return ms
    }
    await ensureTable(left())
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const found = await read(key, left())
      const next = change(found?.sends ?? [])
      if (next === 'stop') return 'stopped'
      if (await write(key, next, found?.etag, left())) return 'written'
    }
    return undefined
  }

  return {
    async take(key, now, budgetMs) {
      const outcome = await update(key, budgetMs, (sends) => {
        const recent = sends.filter((at) => now - at < options.windowMs)
        // Sorted: instances' clocks differ a little, and the row's expiry follows the latest.
        return recent.length >= options.max ? 'stop' : [...recent, now].sort((x, y) => x - y)
      })
      return outcome === 'written'
    },
    async refund(key, at) {
      await update(key, REFUND_BUDGET_MS, (sends) =>
        sends.includes(at) ? withoutSend(sends, at) : 'stop',
      )
    },
  }
}
