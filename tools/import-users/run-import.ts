// The bulk step of a password migration (docs/password-migration.md): for each chunk of 20 users,
// one $batch looks their identities up, one $batch creates those not found (a random temporary
// password, forceChangePasswordNextSignIn false, the migration extension property true), and the
// hashes of the users now in the tenant go to the hash store. A re-run therefore skips every user
// already created, and writes any hash a broken run left out. Failures are recorded by input line,
// stage, status, Graph code and request id: never a sign-in name, a password or a hash.
import type { User } from '@microsoft/microsoft-graph-types'
import type { BatchRequest, BatchResult } from '../graph/batch.js'
import { MAX_BATCH } from '../graph/batch.js'
import type { GraphClient } from '../graph/client.js'
import { GraphError } from '../graph/graph-error.js'
import type { HashStore } from './hash-store.js'
import type { UserToImport } from './read-users.js'
import { temporaryPassword } from './temporary-password.js'

export interface ImportFailure {
  readonly line: number
  readonly stage: 'lookup' | 'create' | 'hash-store'
  readonly status?: number
  readonly code?: string
  readonly requestId?: string
}

export interface ImportProgress {
  readonly done: number
  readonly total: number
  readonly created: number
  readonly existing: number
  readonly failed: number
}

export interface ImportSummary extends ImportProgress {
  readonly dryRun: boolean
  /** Dry run: how many would be created. */
  readonly toCreate: number
  readonly hashesWritten: number
  readonly batches: number
  readonly failures: readonly ImportFailure[]
  /** Set when the run stopped early (a whole $batch failed, or the store could not be written). */
  readonly stoppedBy?: string
}

export interface ImportOptions {
  readonly graph: GraphClient
  readonly users: readonly UserToImport[]
  /** The tenant's primary domain: the issuer of the local account identities. */
  readonly issuer: string
  /** extension_<b2c-extensions-app appId without dashes>_<name>. */
  readonly migrationProperty: string
  /** Not used on a dry run. */
  readonly store: HashStore | undefined
  readonly dryRun: boolean
  readonly newPassword?: () => string
  readonly onProgress?: (progress: ImportProgress) => void
}

/** A body Graph v1.0 accepts for POST /users, the migration flag included. */
export type CreateUserBody = User & Readonly<Record<`extension_${string}`, boolean>>

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`

export async function runImport(options: ImportOptions): Promise<ImportSummary> {
  const { graph, users, issuer } = options
  const newPassword = options.newPassword ?? temporaryPassword
  const failures: ImportFailure[] = []
  let created = 0
  let existing = 0
  let toCreate = 0
  let hashesWritten = 0
  let batches = 0
  let stoppedBy: string | undefined
  let done = 0
  const failed = (user: UserToImport, stage: ImportFailure['stage'], result?: BatchResult) =>
    failures.push({
      line: user.line,
      stage,
      ...(result === undefined ? {} : outcome(result)),
    })
  const progress = (done: number): ImportProgress => ({
    done,
    total: users.length,
    created,
    existing,
    failed: failures.length,
  })

  for (let start = 0; start < users.length && stoppedBy === undefined; start += MAX_BATCH) {
    const chunk = users.slice(start, start + MAX_BATCH)
    try {
      const found = await graph.batch('v1.0', chunk.map(lookup(issuer)))
      batches += 1
      const missing: UserToImport[] = []
      const present: UserToImport[] = []
      chunk.forEach((user, i) => {
        const result = found[i]!
        const value = (result.body as { value?: unknown } | undefined)?.value
        if (result.status !== 200 || !Array.isArray(value)) failed(user, 'lookup', result)
        else if (value.length > 0) present.push(user)
        else missing.push(user)
      })
      existing += present.length
      const inTenant = [...present]
      if (options.dryRun) toCreate += missing.length
      else if (missing.length > 0) {
        const answers = await graph.batch(
          'v1.0',
          missing.map((user, i) => ({
            id: String(i),
            method: 'POST',
            url: '/users',
            body: createBody(user, issuer, options.migrationProperty, newPassword()),
          })),
        )
        batches += 1
        missing.forEach((user, i) => {
          const result = answers[i]!
          if (result.status === 201) {
            created += 1
            inTenant.push(user)
          } else failed(user, 'create', result)
        })
      }
      if (!options.dryRun && options.store !== undefined && inTenant.length > 0) {
        try {
          await options.store.put(inTenant.map((u) => ({ username: u.signInName, hash: u.hash })))
          hashesWritten += inTenant.length
        } catch (err) {
          for (const user of inTenant) failed(user, 'hash-store')
          stoppedBy = `the hash store could not be written${err instanceof Error && err.name === 'HashStoreError' ? `: ${err.message}` : ''}`
        }
      }
    } catch (err) {
      if (!(err instanceof GraphError)) throw err
      for (const user of chunk)
        failures.push({
          line: user.line,
          stage: 'lookup',
          ...(err.status === undefined ? {} : { status: err.status }),
          ...(err.code === undefined ? {} : { code: err.code }),
          ...(err.requestId === undefined ? {} : { requestId: err.requestId }),
        })
      stoppedBy = err.message
    }
    done = start + chunk.length
    options.onProgress?.(progress(done))
  }
  return {
    ...progress(done),
    dryRun: options.dryRun,
    toCreate,
    hashesWritten,
    batches,
    failures,
    ...(stoppedBy === undefined ? {} : { stoppedBy }),
  }
}

/** GET the user holding this identity (Graph's filter on identities needs both fields). */
function lookup(issuer: string) {
  return (user: UserToImport, i: number): BatchRequest => {
    const filter = `identities/any(c:c/issuerAssignedId eq ${quote(user.signInName)} and c/issuer eq ${quote(issuer)})`
    return {
      id: String(i),
      method: 'GET',
      url: `/users?$filter=${encodeURIComponent(filter)}&$select=id`,
    }
  }
}

export function createBody(
  user: UserToImport,
  issuer: string,
  migrationProperty: string,
  password: string,
): CreateUserBody {
  return {
    accountEnabled: true,
    displayName: user.displayName,
    identities: [{ signInType: user.signInType, issuer, issuerAssignedId: user.signInName }],
    ...(user.signInType === 'emailAddress' ? { mail: user.signInName } : {}),
    passwordProfile: { password, forceChangePasswordNextSignIn: false },
    passwordPolicies: 'DisablePasswordExpiration',
    [migrationProperty]: true,
  } satisfies CreateUserBody
}

function outcome(result: BatchResult): Omit<ImportFailure, 'line' | 'stage'> {
  const error = (
    result.body as { error?: { code?: unknown; innerError?: Record<string, unknown> } } | undefined
  )?.error
  const code =
    typeof error?.code === 'string' && /^[\w.-]{1,100}$/.test(error.code) ? error.code : undefined
  const inner = error?.innerError?.['request-id']
  const requestId =
    result.headers['request-id'] ?? (typeof inner === 'string' ? inner.slice(0, 100) : undefined)
  return {
    status: result.status,
    ...(code === undefined ? {} : { code }),
    ...(requestId === undefined ? {} : { requestId }),
  }
}
