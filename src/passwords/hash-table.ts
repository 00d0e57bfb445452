// The legacy hashes in Azure Table Storage (PASSWORD_HASHES_CONNECTION_STRING, PASSWORD_HASHES_TABLE):
// one row per user, read with one point lookup per check, time-boxed within the request. Table keys
// forbid / \ # ? and control characters, and usernames may hold any of them: a row is named by
// the SHA-256 of the normalised username (hex), its partition by the digest's first two
// characters. The digest is unkeyed on purpose, so that an import (npm run import-users, or any
// script) can write rows the endpoint finds: the row holds the hash, which is what needs guarding.
// An unreachable, failing or slow table is a PasswordCheckError (503/504), never "unknown user".
import { createHash } from 'node:crypto'
import type { TableClient } from '@azure/data-tables'
import { abortAfter } from '../outbound/abort-after.js'
import { PasswordCheckError } from './check.js'
import { parseHash } from './hash-formats.js'
import { normaliseUsername } from './hashes-file.js'
import type { HashStore } from './hash-store.js'

export const DEFAULT_HASHES_TABLE = 'passwordhashes'

/** The row of one user: what an import writes. */
export interface HashRow {
  readonly partitionKey: string
  readonly rowKey: string
  /** The legacy hash string, in one of the formats of hash-formats.ts. */
  readonly hash: string
}

export function hashRowKeys(username: string): { partitionKey: string; rowKey: string } {
  const digest = createHash('sha256').update(normaliseUsername(username), 'utf8').digest('hex')
  return { partitionKey: digest.slice(0, 2), rowKey: digest }
}

export function hashRow(username: string, hash: string): HashRow {
  return { ...hashRowKeys(username), hash }
}

/** The HTTP status of a failed table call, when it got one. */
const statusOf = (err: unknown) =>
  typeof err === 'object' && err !== null && 'statusCode' in err
    ? (err as { statusCode?: number }).statusCode
    : undefined

/**
 * The table store; its library is imported now, in the background (`ready` joins the warm-up),
 * and a lookup waits for it.
 */
export function openHashTable(options: {
  readonly connectionString: string
  readonly tableName: string
}): { readonly store: HashStore; readonly ready: Promise<void> } {
  // The OTP store's client: http only towards a loopback emulator, no retries in the client.
  const client: Promise<TableClient> = import('../mail/otp-table.js').then(
    ({ openOtpTable }) => openOtpTable(options).client,
  )
  const ready = client.then(
    () => undefined,
    () => undefined,
  )
  const store: HashStore = {
    kind: 'table',
    async get(username, call) {
      const { partitionKey, rowKey } = hashRowKeys(username)
      const limit = abortAfter(call.signal, call.timeoutMs)
      let row: { hash?: unknown }
      try {
        row = await (
          await client
        ).getEntity<{ hash?: unknown }>(partitionKey, rowKey, { abortSignal: limit.signal })
      } catch (err) {
        const status = statusOf(err)
        if (status === 404) return undefined
        if (limit.signal.aborted)
          throw new PasswordCheckError(true, 'the hash table did not answer in time', {
            cause: err,
          })
        throw new PasswordCheckError(
          false,
          status === undefined
            ? 'the hash table cannot be reached'
            : `the hash table answered HTTP ${status}`,
          { cause: err },
        )
      } finally {
        limit.dispose()
      }
      const parsed = typeof row.hash === 'string' ? parseHash(row.hash) : undefined
      if (parsed === undefined)
        throw new PasswordCheckError(false, 'a hash table row holds no hash of a supported format')
      return parsed
    },
  }
  return { store, ready }
}
