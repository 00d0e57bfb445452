// `npm run import-users -- users.jsonl`: the bulk step of a password migration
// (docs/password-migration.md). Creates the input's users in External ID through Graph $batch with
// a random temporary password and the migration flag set, and writes their hashes to the hash
// store in the same pass. A summary goes to stdout (text or --json), progress to stderr (a bar on
// a terminal), failures by line number to the report file. Exit 0 all done, 1 some users failed or
// Graph failed, 2 bad arguments, settings or input.
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import cliProgress from 'cli-progress'
import { isHttpsUrl } from '../../src/secure-url.js'
import { createGraphClient, type GraphClient } from '../graph/client.js'
import { GraphError } from '../graph/graph-error.js'
import { DEFAULT_HASHES_TABLE } from '../../src/passwords/hash-table.js'
import {
  HashStoreError,
  openJsonLinesHashStore,
  openTableHashStore,
  type HashStore,
} from '../import-users/hash-store.js'
import { parseUsers } from '../import-users/read-users.js'
import { findB2cExtensionsApp } from '../registration/read-tenant.js'
import { runImport, type ImportProgress, type ImportSummary } from '../import-users/run-import.js'
import { operatorTokenGetter, readOperatorCredential } from './operator-credential.js'

const USAGE = `usage: npm run import-users -- <users.jsonl> [options]

Creates the users of <users.jsonl> (one JSON object a line: "email" or "username", "displayName"
optional, "hash" in a format the endpoint verifies) in External ID through Microsoft Graph $batch,
20 at a time, each with a random temporary password and the migration flag set to true, and writes
their hashes to the hash store. Users that already exist (found by their identity) are skipped, so
a re-run resumes. Needs User.ReadWrite.All, and Application.Read.All to find the
b2c-extensions-app when neither --extensions-app-id nor --migration-property is given.

  --issuer <domain>             the tenant's primary domain, the identities' issuer
                                (default: the default verified domain of GET /v1.0/organization)
  --extensions-app-id <appId>   the b2c-extensions-app's appId: the flag is
                                extension_<appId without dashes>_<property name>
                                (default: the tenant's b2c-extensions-app, found by its name)
  --property-name <name>        the flag's name (default toBeMigrated)
  --migration-property <name>   the flag's full name, instead of the two above
  --hashes-file <file>          the hashes file (default PASSWORD_HASHES_FILE), merged by username
  --report <file>               the failures, by line number (default <users.jsonl>.failures.jsonl)
  --dry-run                     look the users up, create nothing, write no hash
  --json                        print the summary as JSON (no progress bar)
  -h, --help                    this text

Hash store: the hashes file, or, when PASSWORD_HASHES_CONNECTION_STRING is set, the Azure Table
PASSWORD_HASHES_TABLE (default ${DEFAULT_HASHES_TABLE}) the endpoint reads, one row per user.

Identity: AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH with AZURE_CLIENT_ID and
AZURE_TENANT_ID (AZURE_AUTHORITY_HOST optional); otherwise DefaultAzureCredential (az login).
GRAPH_BASE_URL defaults to https://graph.microsoft.com.
Exit codes: 0 all done, 1 some users failed or Graph failed, 2 bad arguments, settings or input.`

class UsageError extends Error {}

/** A million users of a few hundred bytes each. */
const MAX_INPUT_BYTES = 512 * 1024 * 1024
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const EXTENSION = /^extension_[0-9a-f]{32}_[A-Za-z][A-Za-z0-9_]{0,99}$/
const DOMAIN = /^(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$/

function fail(code: number, message: string): never {
  process.stderr.write(`import-users: ${message}\n`)
  process.exit(code)
}

function readOptions() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      issuer: { type: 'string' },
      'extensions-app-id': { type: 'string' },
      'property-name': { type: 'string', default: 'toBeMigrated' },
      'migration-property': { type: 'string' },
      'hashes-file': { type: 'string' },
      report: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return { help: true as const }
  if (positionals.length !== 1) throw new UsageError('give one input file: users.jsonl')
  const input = positionals[0]!
  if (values.issuer !== undefined && !DOMAIN.test(values.issuer))
    throw new UsageError('--issuer: must be a domain name, e.g. contoso.onmicrosoft.com')
  let migrationProperty = values['migration-property']
  if (migrationProperty !== undefined) {
    if (values['extensions-app-id'] !== undefined)
      throw new UsageError('--migration-property: give it or --extensions-app-id, not both')
  } else {
    const appId = values['extensions-app-id']
    if (appId !== undefined && !GUID.test(appId))
      throw new UsageError('--extensions-app-id: must be a GUID')
    // Without an app id, the b2c-extensions-app is looked up in Graph (flagName, later).
    if (appId !== undefined) migrationProperty = flagName(appId, values['property-name'])
  }
  if (!EXTENSION.test(migrationProperty ?? flagName(ZERO_GUID, values['property-name'])))
    throw new UsageError(
      '--migration-property / --property-name: the flag is extension_<32 hex digits>_<name of letters, digits, _>',
    )
  const store = hashStoreSetting(values['hashes-file'], values['dry-run'])
  return {
    help: false as const,
    input,
    issuer: values.issuer,
    migrationProperty,
    propertyName: values['property-name'],
    store,
    report: values.report ?? `${input}.failures.jsonl`,
    dryRun: values['dry-run'],
    json: values.json,
  }
}

const ZERO_GUID = '00000000-0000-0000-0000-000000000000'

/** extension_<appId without dashes>_<name>: a directory extension property's full name. */
const flagName = (appId: string, name: string) =>
  `extension_${appId.replace(/-/g, '').toLowerCase()}_${name}`

/** The migration flag on the tenant's b2c-extensions-app, found by Graph (as register finds it). */
async function migrationFlag(graph: GraphClient, propertyName: string): Promise<string> {
  const app = await findB2cExtensionsApp(graph)
  if (app === undefined || !GUID.test(app.appId))
    throw new UsageError(
      'the tenant has no b2c-extensions-app (every External ID tenant has one): check the tenant, or give --extensions-app-id',
    )
  return flagName(app.appId, propertyName)
}

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/

/** Where the hashes go: the file, or the endpoint's hash table (undefined on a dry run without either). */
function hashStoreSetting(
  hashesFileFlag: string | undefined,
  dryRun: boolean,
):
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'table'; readonly connectionString: string; readonly tableName: string }
  | undefined {
  const connectionString = process.env.PASSWORD_HASHES_CONNECTION_STRING?.trim() || undefined
  const hashesFile = hashesFileFlag ?? (process.env.PASSWORD_HASHES_FILE?.trim() || undefined)
  if (connectionString !== undefined) {
    if (hashesFile !== undefined)
      throw new UsageError(
        `${hashesFileFlag !== undefined ? '--hashes-file' : 'PASSWORD_HASHES_FILE'}: set it or PASSWORD_HASHES_CONNECTION_STRING, not both`,
      )
    if (connectionString.length > 2048)
      throw new UsageError('PASSWORD_HASHES_CONNECTION_STRING: longer than 2048 characters')
    const tableName = process.env.PASSWORD_HASHES_TABLE?.trim() || DEFAULT_HASHES_TABLE
    if (!TABLE_NAME.test(tableName))
      throw new UsageError('PASSWORD_HASHES_TABLE: 3 to 63 letters and digits, a letter first')
    return { kind: 'table', connectionString, tableName }
  }
  if (hashesFile !== undefined) return { kind: 'file', path: hashesFile }
  if (dryRun) return undefined
  throw new UsageError(
    '--hashes-file, PASSWORD_HASHES_FILE or PASSWORD_HASHES_CONNECTION_STRING: the hash store is required',
  )
}

/** The tenant's default verified domain, the issuer of local account identities. */
async function primaryDomain(graph: GraphClient): Promise<string> {
  const orgs = await graph.list<{ verifiedDomains?: { name?: string; isDefault?: boolean }[] }>(
    '/v1.0/organization',
    { select: ['verifiedDomains'] },
  )
  const name = orgs[0]?.verifiedDomains?.find((d) => d.isDefault === true)?.name
  if (name === undefined || !DOMAIN.test(name))
    throw new UsageError('the tenant names no default domain: give --issuer')
  return name
}

function summaryText(s: ImportSummary, report: string, retries: number): string {
  const lines = [
    s.dryRun
      ? `dry run: ${s.total} users, ${s.existing} exist already, ${s.toCreate} would be created, ${s.failed} failed`
      : `${s.total} users: ${s.created} created, ${s.existing} existed already, ${s.failed} failed; ${s.hashesWritten} hashes written`,
    `${s.batches} Graph $batch calls, ${retries} retries after throttling`,
  ]
  if (s.stoppedBy !== undefined) lines.push(`stopped early: ${s.stoppedBy}`)
  if (s.failed > 0) lines.push(`failures (by line): ${report}`)
  return `${lines.join('\n')}\n`
}

function progressBar(enabled: boolean, total: number) {
  if (!enabled) return { update: (_p: ImportProgress) => undefined, stop: () => undefined }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        '{bar} {percentage}% | {value}/{total} users | created {created}, existing {existing}, failed {failed} | ETA {eta_formatted}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, { created: 0, existing: 0, failed: 0 })
  return {
    update: (p: ImportProgress) =>
      bar.update(p.done, { created: p.created, existing: p.existing, failed: p.failed }),
    stop: () => bar.stop(),
  }
}

async function main(): Promise<void> {
  let options: ReturnType<typeof readOptions>
  try {
    options = readOptions()
  } catch (err) {
    fail(2, `${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  let text: string
  try {
    if (statSync(options.input).size > MAX_INPUT_BYTES)
      fail(2, `${options.input}: larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB: split it`)
    text = readFileSync(options.input, 'utf8')
  } catch {
    fail(2, `${options.input}: cannot be read`)
  }
  const { users, problems } = parseUsers(text)
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).join('\n  ')
    const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : ''
    fail(2, `${options.input}: ${problems.length} lines cannot be imported:\n  ${shown}${more}`)
  }
  const graphBaseUrl = process.env.GRAPH_BASE_URL?.trim() || 'https://graph.microsoft.com'
  if (!isHttpsUrl(graphBaseUrl)) fail(2, 'GRAPH_BASE_URL: must be an https URL')
  const credential = readOperatorCredential(process.env)
  if (typeof credential === 'string') fail(2, credential)
  let store: HashStore | undefined
  try {
    const where = options.store
    store =
      options.dryRun || where === undefined
        ? undefined
        : where.kind === 'file'
          ? openJsonLinesHashStore(where.path)
          : openTableHashStore(where)
  } catch (err) {
    fail(2, err instanceof HashStoreError ? err.message : 'the hash store cannot be opened')
  }

  const interactive = process.stderr.isTTY === true && !options.json
  let retries = 0
  const graph = createGraphClient({
    baseUrl: graphBaseUrl,
    // The Graph client turns a token failure into a GraphError with this message.
    getToken: operatorTokenGetter(credential, graphBaseUrl, (message) => new Error(message)),
    onRetry: (retry) => {
      retries += 1
      if (!interactive && !options.json)
        process.stderr.write(
          `Graph answered ${retry.status}${retry.items === undefined ? '' : ` for ${retry.items} requests`}: retry ${retry.attempt} in ${(retry.waitMs / 1000).toFixed(1)} s\n`,
        )
    },
  })
  let summary: ImportSummary
  const bar = progressBar(interactive, users.length)
  try {
    const issuer = options.issuer ?? (await primaryDomain(graph))
    summary = await runImport({
      graph,
      users,
      issuer,
      migrationProperty:
        options.migrationProperty ?? (await migrationFlag(graph, options.propertyName)),
      store,
      dryRun: options.dryRun,
      onProgress: bar.update,
    })
  } catch (err) {
    bar.stop()
    if (err instanceof UsageError) fail(2, err.message)
    fail(1, err instanceof GraphError ? err.message : 'the import failed')
  }
  bar.stop()
  writeFileSync(options.report, summary.failures.map((f) => `${JSON.stringify(f)}\n`).join(''), {
    mode: 0o600,
  })
  process.stdout.write(
    options.json
      ? `${JSON.stringify({ ...summary, retries, report: options.report }, null, 2)}\n`
      : summaryText(summary, options.report, retries),
  )
  if (summary.failed > 0 || summary.stoppedBy !== undefined) process.exitCode = 1
}

main().catch((err: unknown) => {
  fail(1, err instanceof Error ? err.message : String(err))
})
