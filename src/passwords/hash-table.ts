// The legacy hashes in Azure Table Storage (PASSWORD_HASHES_CONNECTION_STRING, PASSWORD_HASHES_TABLE):
// one row per user, read with one point lookup per check, time-boxed within the request. Table keys
// forbid / \ # ? and control characters, and usernames may hold any of them: a row is named by
// the SHA-256 of the normalised username (hex), its partition by the digest's first two
// characters. The digest is unkeyed on purpose, so that an import (npm run import-users, or any
// script) can write rows the endpoint finds: the row holds the hash, which is what needs guarding.
// An unreachable, failing or slow table is a PasswordCheckError (503/504), never "unknown user".
// Table Storage answers 404 both for a missing row (ResourceNotFound: the user is unknown) and for
// a missing table (TableNotFound: a misnamed PASSWORD_HASHES_TABLE, or no import yet): only the
// first is "unknown user"; any other 404 is the store failing. At start, `probe` checks that the
// table is there (src/app.ts keeps /api/health 503 until it is).
import { createHash } from 'node:crypto'
import type { TableClient } from '@azure/data-tables'
import { abortAfter } from '../outbound/abort-after.js'
import { statusOf, tableErrorCode } from '../outbound/table-errors.js'
import { PasswordCheckError } from './check.js'
import { readHash } from './hash-formats.js'
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

/** The row the start-up probe reads: its absence (ResourceNotFound) proves the table is there. */
const PROBE_KEYS = { partitionKey: 'probe', rowKey: 'probe' } as const

/** The hash table is missing, or cannot be read: its reason is a fixed text (no answer quoted). */
export class HashTableProblem extends Error {
  override readonly name = 'HashTableProblem'
}

/**
 * The table store; its library is imported now, in the background (`ready` joins the warm-up),
 * and a lookup waits for it.
 */
export function openHashTable(options: {
  readonly connectionString: string
  readonly tableName: string
}): {
  readonly store: HashStore
  readonly ready: Promise<void>
  /** Resolves when the table exists; else a HashTableProblem whose message says why. */
  readonly probe: (timeoutMs: number) => Promise<void>
} {
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
        const code = tableErrorCode(err)
        if (status === 404 && code === 'ResourceNotFound') return undefined
        if (limit.signal.aborted)
          throw new PasswordCheckError(true, 'the hash table did not answer in time', {
            cause: err,
          })
        throw new PasswordCheckError(
          false,
          status === undefined
            ? 'the hash table cannot be reached'
            : code === 'TableNotFound'
              ? 'the hash table does not exist (TableNotFound: PASSWORD_HASHES_TABLE)'
              : `the hash table answered HTTP ${status}${code === undefined ? '' : ` ${code}`}`,
          { cause: err },
        )
      } finally {
        limit.dispose()
      }
      const parsed = typeof row.hash === 'string' ? readHash(row.hash) : 'unsupported'
      if (parsed === 'too-costly')
        throw new PasswordCheckError(
          false,
          'a hash table row holds a hash too costly to check within the request budget',
        )
      if (parsed === 'unsupported')
        throw new PasswordCheckError(false, 'a hash table row holds no hash of a supported format')
      return parsed
    },
  }
  const probe = async (timeoutMs: number) => {
    try {
      await (
        await client
      ).getEntity(PROBE_KEYS.partitionKey, PROBE_KEYS.rowKey, {
        abortSignal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      const status = statusOf(err)
      const code = tableErrorCode(err)
      if (status === 404 && code === 'ResourceNotFound') return
      throw new HashTableProblem(
        code === 'TableNotFound'
          ? 'TableNotFound'
          : status === undefined
            ? 'unreachable'
            : `HTTP ${status}${code === undefined ? '' : ` ${code}`}`,
        { cause: err },
      )
    }
  }
  return { store, ready, probe }
}
