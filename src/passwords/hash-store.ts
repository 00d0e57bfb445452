// Where `hashes` mode finds a user's legacy hash: PASSWORD_HASHES_FILE (read at start, in memory)
// or PASSWORD_HASHES_CONNECTION_STRING (Azure Table Storage, one lookup per check). The table
// store and its row layout are in hash-table.ts; both check the same way here.
import { normaliseUsername } from './hashes-file.js'
import type { ParsedHash } from './hash-formats.js'
import type { CheckCall, PasswordCheck } from './check.js'

export interface HashStore {
  readonly kind: 'file' | 'table'
  /** The user's parsed hash, undefined when unknown; a failure throws a PasswordCheckError. */
  get(username: string, call: CheckCall): Promise<ParsedHash | undefined>
}

export function fileHashStore(hashes: ReadonlyMap<string, ParsedHash>): HashStore {
  return { kind: 'file', get: (username) => Promise.resolve(hashes.get(username)) }
}

export function hashesCheck(store: HashStore): PasswordCheck {
  return {
    mode: 'hashes',
    async verify(username, password, call) {
      const stored = await store.get(normaliseUsername(username), call)
      const valid = stored !== undefined && (await stored.verify(password))
      return {
        outcome: valid ? 'valid' : 'invalid',
        fields: {
          store: store.kind,
          known: stored !== undefined,
          ...(stored === undefined ? {} : { format: stored.format }),
        },
      }
    },
  }
}
