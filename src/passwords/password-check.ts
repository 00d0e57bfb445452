// The configured PasswordCheck, built once per process (src/app.ts): `hashes` mode from the file
// or the table, the other modes from EXTENSION_CONFIG passwordSubmit.check. Undefined when nothing
// is configured to check with (the route answers 503 ERR_NOT_CONFIGURED).
import type { PasswordCheckConfig } from '../extension-config/password-submit.js'
import type { PasswordCheck } from './check.js'
import { fileHashStore, hashesCheck } from './hash-store.js'
import { openHashTable } from './hash-table.js'
import type { PasswordSettings } from './migration.js'

export function createPasswordCheck(
  settings: PasswordSettings,
  check: PasswordCheckConfig,
  warm: Promise<void>[],
): PasswordCheck | undefined {
  switch (check.mode) {
    case 'hashes': {
      if (settings.hashes !== undefined) return hashesCheck(fileHashStore(settings.hashes))
      if (settings.hashesTable === undefined) return undefined
      const table = openHashTable(settings.hashesTable)
      warm.push(table.ready)
      return hashesCheck(table.store)
    }
  }
}
