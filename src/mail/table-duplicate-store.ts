// The duplicate check shared by every instance, on Azure Table Storage (@azure/data-tables): one
// entity per message key, inserted before sending (an insert that finds the key answers 409: it is
// someone else's), replaced with state "sent" after, deleted on failure. Expired entities are
// taken over with an ETag-guarded replace, so two instances cannot both take one. Every call is
// time-boxed; when the table cannot be reached the check fails open (the code is sent and the
// log says so): a user without a code is worse than a rare second e-mail.
import type { TableEntity } from '@azure/data-tables'
import type { ClaimResult, DuplicateStore } from './duplicate-store.js'
import { statusOf } from '../outbound/table-errors.js'
import type { OtpTable } from './otp-table.js'

interface Row {
  state: 'pending' | 'sent'
  expiresAt: number
}

export function createTableDuplicateStore(
  table: OtpTable,
  options: { readonly ttlMs: number; readonly pendingMs: number },
): DuplicateStore {
  const { client, timeout, ensureTable } = table
  const partition = (key: string) => key.slice(0, 2)
  const entity = (key: string, row: Row): TableEntity<Row> => ({
    partitionKey: partition(key),
    rowKey: key,
    ...row,
  })

  async function read(
    key: string,
    budgetMs: number,
  ): Promise<(Row & { etag: string }) | undefined> {
    try {
      const found = await client.getEntity<Row>(partition(key), key, timeout(budgetMs))
      return { state: found.state, expiresAt: found.expiresAt, etag: found.etag }
    } catch (err) {
      if (statusOf(err) === 404) return undefined
      throw err
    }
  }

  return {
    async claim(key, now, budgetMs): Promise<ClaimResult> {
      await ensureTable(budgetMs)
      const pending = entity(key, { state: 'pending', expiresAt: now + options.pendingMs })
      try {
        await client.createEntity(pending, timeout(budgetMs))
        return 'claimed'
      } catch (err) {
        if (statusOf(err) !== 409) throw err
      }
      const found = await read(key, budgetMs)
      if (found === undefined) return this.claim(key, now, budgetMs)
      if (found.expiresAt > now) return found.state
      try {
        await client.updateEntity(pending, 'Replace', { etag: found.etag, ...timeout(budgetMs) })
        return 'claimed'
      } catch (err) {
        if (statusOf(err) === 412) return 'pending' // another instance took it over first
        throw err
      }
    },
    async markSent(key, now) {
      await client.upsertEntity(
        entity(key, { state: 'sent', expiresAt: now + options.ttlMs }),
        'Replace',
        timeout(),
      )
    },
    async release(key) {
      try {
        await client.deleteEntity(partition(key), key, timeout())
      } catch (err) {
        if (statusOf(err) !== 404) throw err
      }
    },
    async state(key, now, budgetMs) {
      const found = await read(key, budgetMs)
      return found === undefined || found.expiresAt <= now ? 'free' : found.state
    },
  }
}
