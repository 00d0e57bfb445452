// The key of the OTP store's row keys, kept in the store itself so that every instance sharing the
// table computes the same digests with no setting of its own: one well-known row, inserted only
// when absent (the first instance wins; a 409 means another did, and its key is read). The key
// is a secret: it is never logged, and no error message holds it.
import { randomBytes } from 'node:crypto'
import { statusOf } from '../outbound/table-errors.js'
import type { OtpTable } from './otp-table.js'

/** Outside the message rows' partitions (two hex digits) and the rate rows' ("rate-…"). */
export const KEY_PARTITION = 'config'
export const KEY_ROW = 'recipient-key'
const KEY_BYTES = 32

interface KeyRow {
  key: string
}

export class SharedKeyError extends Error {
  override readonly name = 'SharedKeyError'
}

/** Reads the table's key, creating it first when the table has none. */
export async function readOrCreateSharedKey(table: OtpTable, budgetMs: number): Promise<Buffer> {
  await table.ensureTable(budgetMs)
  const created = randomBytes(KEY_BYTES)
  try {
    await table.client.createEntity<KeyRow>(
      { partitionKey: KEY_PARTITION, rowKey: KEY_ROW, key: created.toString('base64') },
      table.timeout(budgetMs),
    )
    return created
  } catch (err) {
    if (statusOf(err) !== 409) throw err
  }
  const found = await table.client.getEntity<KeyRow>(
    KEY_PARTITION,
    KEY_ROW,
    table.timeout(budgetMs),
  )
  const key = typeof found.key === 'string' ? Buffer.from(found.key, 'base64') : undefined
  if (key?.length !== KEY_BYTES)
    throw new SharedKeyError(`the row ${KEY_PARTITION}/${KEY_ROW} does not hold a 32-byte key`)
  return key
}
