// The configured PasswordCheck, built once per process (src/app.ts): `hashes` mode from the file
// or the table, `legacyApi` and `ropc` from EXTENSION_CONFIG passwordSubmit.check. Undefined when nothing
// is configured to check with (the route answers 503 ERR_NOT_CONFIGURED).
import type { PasswordCheckConfig } from '../extension-config/password-submit.js'
import type { RemoteAuth } from '../extension-config/sign-up.js'
import type { HttpSourceAuth } from '../sources/http-api.js'
import type { PasswordCheck } from './check.js'
import { legacyApiCheck } from './legacy-api.js'
import { ropcCheck } from './ropc.js'
import { fileHashStore, hashesCheck } from './hash-store.js'
import { openHashTable } from './hash-table.js'
import type { PasswordSettings } from './migration.js'

export function createPasswordCheck(
  settings: PasswordSettings,
  check: PasswordCheckConfig,
  outbound: {
    /** The HTTP sources' auth (src/app.ts): an API key header or managed-identity tokens. */
    readonly authFor: (auth: RemoteAuth | undefined) => HttpSourceAuth
    /** The app settings EXTENSION_CONFIG names, loaded at start (src/config.ts). */
    readonly secrets: Readonly<Record<string, string>>
  },
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
    case 'legacyApi':
      return legacyApiCheck(check, outbound.authFor(check.auth))
    case 'ropc':
      return ropcCheck(
        check,
        check.clientSecretSetting === undefined
          ? undefined
          : outbound.secrets[check.clientSecretSetting],
      )
  }
}
