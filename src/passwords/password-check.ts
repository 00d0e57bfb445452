// The configured PasswordCheck, built once per process (src/app.ts): `hashes` mode from the file
// or the table, `legacyApi` and `ropc` from EXTENSION_CONFIG passwordSubmit.check. Undefined when nothing
// is configured to check with (the route answers 503 ERR_NOT_CONFIGURED).
import type { PasswordCheckConfig } from '../extension-config/password-submit.js'
import type { RemoteAuth } from '../extension-config/sign-up.js'
import type { CredentialChecks } from '../http/credential-checks.js'
import type { Logger } from '../log.js'
import type { HttpSourceAuth } from '../sources/http-api.js'
import type { PasswordCheck } from './check.js'
import { legacyApiCheck } from './legacy-api.js'
import { ropcCheck } from './ropc.js'
import { fileHashStore, hashesCheck } from './hash-store.js'
import { HashTableProblem, openHashTable } from './hash-table.js'
import type { PasswordSettings } from './migration.js'

/** The start-up check of the hash table: one point read, off any request's path. */
const HASH_TABLE_PROBE_MS = 2000
const HASH_TABLE_FAILED = 'password_hashes_table_failed'

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
  startup?: { readonly checks: CredentialChecks; readonly log: Logger },
): PasswordCheck | undefined {
  switch (check.mode) {
    case 'hashes': {
      if (settings.hashes !== undefined) return hashesCheck(fileHashStore(settings.hashes))
      if (settings.hashesTable === undefined) return undefined
      const { tableName } = settings.hashesTable
      const table = openHashTable(settings.hashesTable)
      warm.push(table.ready)
      // The table must exist: health stays 503 until it does (tried again once a minute).
      if (startup !== undefined)
        warm.push(
          startup.checks.add(
            'password_hashes',
            async () => {
              try {
                await table.probe(HASH_TABLE_PROBE_MS)
                startup.log.info('password_hashes_table_ready', { table: tableName })
              } catch (err) {
                startup.log.warn(HASH_TABLE_FAILED, {
                  table: tableName,
                  reason: err instanceof HashTableProblem ? err.message : 'unknown',
                })
                throw err
              }
            },
            {
              code: HASH_TABLE_FAILED,
              reason: `the password hash table (PASSWORD_HASHES_TABLE "${tableName}") does not exist or cannot be read (see ${HASH_TABLE_FAILED} in the log)`,
            },
          ),
        )
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
