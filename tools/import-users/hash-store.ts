// Where `import-users` writes the legacy hashes, for the endpoint's `hashes` mode to read. Behind
// an interface so that a Table Storage store can be plugged in later; today the JSON-lines file
// PASSWORD_HASHES_FILE ({"username": "...", "hash": "..."} per line, src/passwords/hashes-file.ts),
// merged by username: a new username is appended, a changed hash rewrites the file (atomically).
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
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
