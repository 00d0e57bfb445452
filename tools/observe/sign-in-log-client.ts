// Reads Entra's sign-in logs from Microsoft Graph (contract §8): GET /beta/auditLogs/signIns with
// a createdDateTime range, through the tools' Graph client (paging by @odata.nextLink on Graph's
// origin only, 429 Retry-After honoured a bounded number of times, bodies read up to a limit,
// errors as GraphError: status, Graph's error code and request ids, never the token).
import { createGraphClient } from '../graph/client.js'
import { GraphError } from '../graph/graph-error.js'

export interface FetchSignInsOptions {
  /** GRAPH_BASE_URL, e.g. https://graph.microsoft.com */
  readonly graphBaseUrl: string
  readonly since: Date
  readonly until: Date
  /** $top: the page size asked for. */
  readonly pageSize: number
  readonly maxPages: number
  readonly maxRecords: number
  /** A bearer token for Graph (called once per request: the credential caches it). */
  readonly getToken: () => Promise<string>
  readonly timeoutMs?: number
  readonly maxPageBytes?: number
  /** How many 429s in a row are retried before giving up. */
  readonly maxRetries?: number
  /** The longest Retry-After waited for, in seconds (a longer one is cut to this). */
  readonly maxRetryAfterSeconds?: number
  readonly onPage?: (page: number, records: number, total: number) => void
  readonly onRetry?: (status: number, waitMs: number, attempt: number) => void
  readonly sleep?: (ms: number) => Promise<void>
}

export interface FetchedSignIns {
  readonly signIns: unknown[]
  readonly pages: number
  /** Whether more records were left unread (--max-pages or --max-records). */
  readonly truncated: boolean
}

/** The first page's URL: the createdDateTime range as $filter, and $top. */
export function signInsUrl(graphBaseUrl: string, since: Date, until: Date, top: number): string {
  const base = graphBaseUrl.replace(/\/+$/, '')
  const filter = `createdDateTime ge ${since.toISOString()} and createdDateTime lt ${until.toISOString()}`
  return `${base}/beta/auditLogs/signIns?$filter=${encodeURIComponent(filter)}&$top=${top}`
}

const PERMISSION_HINT = 'the identity needs the AuditLog.Read.All application permission'

export async function fetchSignIns(options: FetchSignInsOptions): Promise<FetchedSignIns> {
  const graph = createGraphClient({
    baseUrl: options.graphBaseUrl,
    getToken: options.getToken,
    timeoutMs: options.timeoutMs,
    maxBytes: options.maxPageBytes ?? 32 * 1024 * 1024,
    maxPages: options.maxPages,
    maxRetries: options.maxRetries ?? 3,
    maxRetryAfterSeconds: options.maxRetryAfterSeconds,
    sleep: options.sleep,
    onRetry: (retry) => options.onRetry?.(retry.status, retry.waitMs, retry.attempt),
  })
  const first = new URL(signInsUrl(graph.origin, options.since, options.until, options.pageSize))
  const signIns: unknown[] = []
  let pages = 0
  try {
    for await (const page of graph.pages(`${first.pathname}${first.search}`, {
      headers: { prefer: 'include-unknown-enum-members' },
    })) {
      pages = page.page
      const room = options.maxRecords - signIns.length
      signIns.push(...page.value.slice(0, room))
      options.onPage?.(pages, page.value.length, signIns.length)
      if (page.value.length > room) return { signIns, pages, truncated: true }
      if (page.hasMore && (pages >= options.maxPages || signIns.length >= options.maxRecords))
        return { signIns, pages, truncated: true }
    }
  } catch (err) {
    if (err instanceof GraphError && err.status === 403) throw err.withHint(PERMISSION_HINT)
    throw err
  }
  return { signIns, pages, truncated: false }
}
