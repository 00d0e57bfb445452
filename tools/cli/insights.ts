// `npm run insights`: how the custom authentication extensions behaved, from Entra's sign-in logs
// in Microsoft Graph (contract §8; needs AuditLog.Read.All). Results go to stdout (text, --json,
// or an --html file); on stderr, progress per page when it is a terminal and --json is off, and
// without --json a summary line at the end. Exit 0 ok, 2 bad arguments or settings, 1 Graph failure.
import { writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { isHttpsUrl } from '../../src/secure-url.js'
import {
  operatorGraphClient,
  operatorTokenGetter,
  readOperatorCredential,
  retryLine,
  SignInError,
} from './operator-credential.js'
import { aggregateSignIns, type SignInInsights } from '../observe/sign-in-insights.js'
import { GraphError } from '../graph/graph-error.js'
import { printableText } from '../registration/entra-objects.js'
import { fetchSignIns } from '../observe/sign-in-log-client.js'
import { renderInsightsHtml } from '../observe/signin-report-html.js'
import { fetchExtensionNames, readNamesFile } from '../observe/extension-names.js'

const USAGE = `usage: npm run insights -- [options]

Reads Entra sign-in logs (GET {GRAPH_BASE_URL}/beta/auditLogs/signIns, permission
AuditLog.Read.All) and reports each custom authentication extension's calls per event type and
UTC day: successes, success rate, HTTP statuses, error codes, attempts and retries.

  --since <ISO|Nm|Nh|Nd>  start of the createdDateTime range (default 24h, i.e. 24 hours ago)
  --until <ISO|Nm|Nh|Nd>  end of the range, exclusive (default now)
  --extension <id>        only this customExtensionId
  --json                  print the aggregation as JSON
  --html <file>           also write a self-contained HTML report to <file> (extension names
                          from Graph's customAuthenticationExtensions when readable)
  --names <file>          extension names for the report: a JSON object {"<extension id>": "<name>"}
                          (then Graph is not asked for them)
  --max-pages <n>         pages to read at most (default 20)
  --max-records <n>       sign-ins to read at most (default 10000)
  --page-size <n>         $top per page (default 500, at most 1000)
  -h, --help              this text

Identity: AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH with AZURE_CLIENT_ID and
AZURE_TENANT_ID (AZURE_AUTHORITY_HOST optional); otherwise DefaultAzureCredential (az login).
GRAPH_BASE_URL defaults to https://graph.microsoft.com.
Exit codes: 0 ok, 2 bad arguments or settings, 1 Graph failure.`

class UsageError extends Error {}

function fail(code: number, message: string): never {
  process.stderr.write(`insights: ${message}\n`)
  process.exit(code)
}

/** An ISO date-time, or a duration before `now` (30m, 24h, 7d). */
function parseInstant(name: string, value: string, now: number): Date {
  const relative = /^(\d{1,6})([mhd])$/.exec(value.trim())
  if (relative !== null) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 'm' | 'h' | 'd']
    return new Date(now - Number(relative[1]) * unit)
  }
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const at = Date.parse(value)
    if (!Number.isNaN(at)) return new Date(at)
  }
  throw new UsageError(`--${name}: "${value}" is neither an ISO date-time nor like 24h, 7d, 30m`)
}

function parseCount(name: string, value: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new UsageError(`--${name}: must be a whole number from 1 to ${max}`)
  return Number(value)
}

function readOptions(now: number) {
  const { values } = parseArgs({
    allowPositionals: false,
    options: {
      since: { type: 'string', default: '24h' },
      until: { type: 'string' },
      extension: { type: 'string' },
      json: { type: 'boolean', default: false },
      html: { type: 'string' },
      names: { type: 'string' },
      'max-pages': { type: 'string', default: '20' },
      'max-records': { type: 'string', default: '10000' },
      'page-size': { type: 'string', default: '500' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  const since = parseInstant('since', values.since, now)
  const until =
    values.until === undefined ? new Date(now) : parseInstant('until', values.until, now)
  if (since.getTime() >= until.getTime()) throw new UsageError('--since must be before --until')
  if (values.extension?.trim() === '') throw new UsageError('--extension: must not be empty')
  if (values.html?.trim() === '') throw new UsageError('--html: needs a file name')
  if (values.names?.trim() === '') throw new UsageError('--names: needs a file name')
  return {
    help: values.help,
    since,
    until,
    extension: values.extension,
    json: values.json,
    html: values.html,
    names: values.names,
    maxPages: parseCount('max-pages', values['max-pages'], 10_000),
    maxRecords: parseCount('max-records', values['max-records'], 10_000_000),
    pageSize: parseCount('page-size', values['page-size'], 1000),
  }
}

function text(insights: SignInInsights, truncated: boolean): string {
  const lines = [
    `sign-ins: ${insights.signIns}, extension calls: ${insights.calls}, sign-ins with several listeners: ${insights.signInsWithMultipleListeners}`,
    `skipped: ${insights.malformedListeners} malformed listener entries, ${insights.malformedSignIns} malformed sign-ins`,
  ]
  if (truncated) lines.push('(truncated: --max-pages or --max-records left records unread)')
  for (const e of insights.extensions) {
    lines.push(
      '',
      `extension ${e.customExtensionId} ${e.eventType}: ${e.calls} calls, ${e.successes} ok (${(e.successRate * 100).toFixed(1)}%), ${e.attempts} attempts, ${e.retries} retries`,
      `  HTTP status: ${Object.entries(e.byHttpStatus)
        .map(([s, n]) => `${s}=${n}`)
        .join(' ')}`,
    )
    for (const c of e.byErrorCode)
      lines.push(`  error ${c.code} ${c.name} x${c.count}: ${c.meaning}`)
    for (const d of e.days)
      lines.push(`  ${d.day}: ${d.calls} calls, ${d.failures} failed, ${d.retries} retries`)
  }
  if (insights.extensions.length === 0) lines.push('', 'no custom extension calls in this range')
  lines.push('', `note: ${insights.latency}`)
  return printableText(lines)
}

async function main(): Promise<void> {
  const now = Date.now()
  let options: ReturnType<typeof readOptions>
  try {
    options = readOptions(now)
  } catch (err) {
    fail(2, `${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const graphBaseUrl = process.env.GRAPH_BASE_URL?.trim() || 'https://graph.microsoft.com'
  if (!isHttpsUrl(graphBaseUrl)) fail(2, 'GRAPH_BASE_URL: must be an https URL')
  const credential = readOperatorCredential(process.env)
  if (typeof credential === 'string') fail(2, credential)
  const namesFromFile = options.names === undefined ? undefined : readNamesFile(options.names)
  if (typeof namesFromFile === 'string') fail(2, namesFromFile)

  let fetched: Awaited<ReturnType<typeof fetchSignIns>>
  try {
    fetched = await fetchSignIns({
      graphBaseUrl,
      since: options.since,
      until: options.until,
      pageSize: options.pageSize,
      maxPages: options.maxPages,
      maxRecords: options.maxRecords,
      getToken: operatorTokenGetter(
        credential,
        graphBaseUrl,
        (problem) => new GraphError({ failure: 'token', method: 'GET', path: '(token)', problem }),
      ),
      // Progress per page for a person watching: only at a terminal, and not with --json.
      onPage: (page, records, total) => {
        if (process.stderr.isTTY === true && !options.json)
          process.stderr.write(`page ${page}: ${records} sign-ins (${total} so far)\n`)
      },
      onRetry: (status, waitMs, attempt) =>
        process.stderr.write(
          `Graph answered ${status}: retry ${attempt} in ${(waitMs / 1000).toFixed(1)} s\n`,
        ),
    })
  } catch (err) {
    if (err instanceof SignInError) fail(2, err.message)
    fail(1, err instanceof GraphError ? err.message : 'reading the sign-in logs failed')
  }
  if (!options.json)
    process.stderr.write(`read ${fetched.signIns.length} sign-ins in ${fetched.pages} page(s)\n`)
  if (fetched.truncated)
    process.stderr.write('stopped early (--max-pages / --max-records): more sign-ins are unread\n')

  const insights = aggregateSignIns(fetched.signIns, {
    extensionId: options.extension,
    since: options.since,
    until: options.until,
  })
  if (options.html !== undefined) {
    const html = renderInsightsHtml(insights, {
      since: options.since,
      until: options.until,
      generatedAt: new Date(now),
      pages: fetched.pages,
      truncated: fetched.truncated,
      names: namesFromFile ?? (await namesFromGraph(graphBaseUrl, credential)),
      docsHref: docsHrefFrom(options.html),
    })
    try {
      writeFileSync(options.html, html)
    } catch (err) {
      fail(2, `--html: cannot write ${options.html}: ${err instanceof Error ? err.message : ''}`)
    }
    process.stderr.write(`wrote ${options.html}\n`)
  }
  process.stdout.write(
    options.json ? `${JSON.stringify(insights, null, 2)}\n` : text(insights, fetched.truncated),
  )
}

/** Extension names from Graph, or undefined (and a note on stderr) when they cannot be read. */
async function namesFromGraph(
  graphBaseUrl: string,
  credential: Exclude<ReturnType<typeof readOperatorCredential>, string>,
): Promise<ReadonlyMap<string, string> | undefined> {
  const graph = operatorGraphClient(credential, graphBaseUrl, (retry) =>
    process.stderr.write(retryLine(retry)),
  )
  try {
    return await fetchExtensionNames(graph)
  } catch (err) {
    const why =
      err instanceof GraphError && err.failure === 'status'
        ? `Graph answered HTTP ${err.status ?? ''} ${err.code ?? '(no error code)'} (${err.message})`
        : err instanceof Error
          ? err.message
          : 'not read'
    process.stderr.write(
      `extension names: ${why} (CustomAuthenticationExtension.Read.All reads them); the report shows IDs: --names <file> names them\n`,
    )
    return undefined
  }
}

/** docs/operations.md of this checkout, relative to the report file, as a link. */
function docsHrefFrom(htmlFile: string): string {
  const docs = join(fileURLToPath(new URL('../../', import.meta.url)), 'docs', 'operations.md')
  return relative(dirname(resolve(htmlFile)), docs)
    .split(sep)
    .map(encodeURIComponent)
    .join('/')
}

main().catch((err: unknown) => {
  fail(err instanceof SignInError ? 2 : 1, err instanceof Error ? err.message : String(err))
})
