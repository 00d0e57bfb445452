// Where `import-users` writes the legacy hashes, for the endpoint's `hashes` mode to read: the
// JSON-lines file PASSWORD_HASHES_FILE ({"username": "...", "hash": "..."} per line,
// src/passwords/hashes-file.ts), merged by username (a new username is appended, a changed hash
// rewrites the file atomically); or the Azure Table of PASSWORD_HASHES_CONNECTION_STRING, one row
// per user in the endpoint's own layout (src/passwords/hash-table.ts hashRow), upserted.
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { openOtpTable } from '../../src/mail/otp-table.js'
import { hashRow } from '../../src/passwords/hash-table.js'
import { normaliseUsername } from '../../src/passwords/hashes-file.js'

export interface HashEntry {
  readonly username: string
  readonly hash: string
}

export interface HashStore {
  /** Adds these users' hashes, or replaces the hash of a username already held. */
  put(entries: readonly HashEntry[]): Promise<void>
}

export class HashStoreError extends Error {
  override readonly name = 'HashStoreError'
}

/** Opens (or will create) the file; an existing line that cannot be read is an error naming it. */
export function openJsonLinesHashStore(path: string): HashStore {
  const held = new Map<string, HashEntry>()
  if (existsSync(path)) {
    readFileSync(path, 'utf8')
      .split('\n')
      .forEach((raw, index) => {
        if (raw.trim() === '') return
        let entry: unknown
        try {
          entry = JSON.parse(raw)
        } catch {
          throw new HashStoreError(`the hashes file: line ${index + 1} is not valid JSON`)
        }
        const { username, hash } = (entry ?? {}) as { username?: unknown; hash?: unknown }
        if (typeof username !== 'string' || typeof hash !== 'string')
          throw new HashStoreError(`the hashes file: line ${index + 1} lacks "username" or "hash"`)
        held.set(normaliseUsername(username), { username, hash })
      })
  }
  const line = (e: HashEntry) => `${JSON.stringify({ username: e.username, hash: e.hash })}\n`
  return {
    async put(entries) {
      const added: HashEntry[] = []
      let changed = false
      for (const entry of entries) {
        const key = normaliseUsername(entry.username)
        const before = held.get(key)
        if (before?.hash === entry.hash) continue
        if (before === undefined) added.push(entry)
        else changed = true
        held.set(key, entry)
      }
      if (changed) {
        const temporary = `${path}.${process.pid}.tmp`
        writeFileSync(temporary, [...held.values()].map(line).join(''), { mode: 0o600 })
        renameSync(temporary, path)
      } else if (added.length > 0) {
        appendFileSync(path, added.map(line).join(''), { mode: 0o600 })
      }
      return Promise.resolve()
    },
  }
}

/** How long one table call may take. */
const TABLE_CALL_MS = 30_000
/** How many rows are written at once (a $batch chunk is 20 users). */
const TABLE_PARALLEL = 20

/**
 * The hash table the endpoint reads (PASSWORD_HASHES_CONNECTION_STRING, PASSWORD_HASHES_TABLE),
 * created when missing. Each user's row is upserted (Replace), so a re-run or a changed hash
 * leaves one row per user. Errors name the table call's status, never a username or a hash.
 */
export function openTableHashStore(options: {
  readonly connectionString: string
  readonly tableName: string
}): HashStore {
  // The endpoint's own table client: plain http only towards a loopback emulator, no retries.
  const { client } = openOtpTable(options)
  let created: Promise<void> | undefined
  const failure = (what: string, err: unknown) => {
    const status =
      typeof err === 'object' && err !== null && 'statusCode' in err
        ? (err as { statusCode?: unknown }).statusCode
        : undefined
    return new HashStoreError(
      `the hash table: ${what} failed${typeof status === 'number' ? ` with HTTP ${status}` : ' (no answer)'}`,
    )
  }
  return {
    async put(entries) {
      created ??= client
        .createTable({ abortSignal: AbortSignal.timeout(TABLE_CALL_MS) })
        .catch((err: unknown) => {
          created = undefined
          throw failure('creating the table', err)
        })
      await created
      for (let start = 0; start < entries.length; start += TABLE_PARALLEL) {
        await Promise.all(
          entries.slice(start, start + TABLE_PARALLEL).map(async (entry) => {
            try {
              await client.upsertEntity(hashRow(entry.username, entry.hash), 'Replace', {
                abortSignal: AbortSignal.timeout(TABLE_CALL_MS),
              })
            } catch (err) {
              throw failure('writing a row', err)
            }
          }),
        )
      }
    },
  }
}
