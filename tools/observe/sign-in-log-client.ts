// Reads Entra's sign-in logs from Microsoft Graph (contract §8): GET /beta/auditLogs/signIns with
// a createdDateTime range, paged by @odata.nextLink (same origin only), 429 Retry-After honoured a
// bounded number of times. Bodies are read up to a limit; errors name the status and Graph's error
// code, never the request's token.
import { readLimited } from '../../src/outbound/fetch-json.js'
import { retryAfterMs } from '../registration/graph-api.js'

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

export class GraphQueryError extends Error {
  override readonly name = 'GraphQueryError'
  readonly status: number | undefined
  readonly code: string | undefined

  constructor(message: string, status?: number, code?: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** The first page's URL: the createdDateTime range as $filter, and $top. */
export function signInsUrl(graphBaseUrl: string, since: Date, until: Date, top: number): string {
  const base = graphBaseUrl.replace(/\/+$/, '')
  const filter = `createdDateTime ge ${since.toISOString()} and createdDateTime lt ${until.toISOString()}`
  return `${base}/beta/auditLogs/signIns?$filter=${encodeURIComponent(filter)}&$top=${top}`
}

const sleeper = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Graph's error code from its error body, if it has one. */
function graphErrorCode(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown } } | null
    const code = body?.error?.code
    return typeof code === 'string' && /^[\w.-]{1,100}$/.test(code) ? code : undefined
  } catch {
    return undefined
  }
}

export async function fetchSignIns(options: FetchSignInsOptions): Promise<FetchedSignIns> {
  const origin = new URL(options.graphBaseUrl).origin
  const timeoutMs = options.timeoutMs ?? 30_000
  const maxBytes = options.maxPageBytes ?? 32 * 1024 * 1024
  const maxRetries = options.maxRetries ?? 3
  const maxWaitMs = (options.maxRetryAfterSeconds ?? 60) * 1000
  const sleep = options.sleep ?? sleeper
  const signIns: unknown[] = []
  let url: string | undefined = signInsUrl(
    options.graphBaseUrl,
    options.since,
    options.until,
    options.pageSize,
  )
  let pages = 0

  while (url !== undefined) {
    if (pages >= options.maxPages || signIns.length >= options.maxRecords) {
      return { signIns, pages, truncated: true }
    }
    const body = await getPage(url)
    pages += 1
    const value = (body as { value?: unknown } | null)?.value
    if (!Array.isArray(value)) {
      throw new GraphQueryError(`Graph answered page ${pages} without a "value" array`)
    }
    const room = options.maxRecords - signIns.length
    signIns.push(...(value as unknown[]).slice(0, room))
    options.onPage?.(pages, value.length, signIns.length)
    const next = (body as { '@odata.nextLink'?: unknown })['@odata.nextLink']
    if (value.length > room) return { signIns, pages, truncated: true }
    if (next === undefined || next === null) {
      url = undefined
    } else if (typeof next !== 'string' || !URL.canParse(next) || new URL(next).origin !== origin) {
      throw new GraphQueryError(
        `Graph's @odata.nextLink on page ${pages} does not point to ${origin}: not followed`,
      )
    } else {
      url = next
    }
  }
  return { signIns, pages, truncated: false }

  async function getPage(pageUrl: string): Promise<unknown> {
    for (let attempt = 0; ; attempt += 1) {
      const token = await options.getToken()
      let res: Response
      let text: string
      try {
        res = await fetch(pageUrl, {
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            prefer: 'include-unknown-enum-members',
          },
        })
        text = await readLimited(
          res,
          maxBytes,
          () => new GraphQueryError(`a Graph page was larger than ${maxBytes} bytes`),
        )
      } catch (err) {
        if (err instanceof GraphQueryError) throw err
        const why =
          err instanceof Error && err.name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : 'the connection failed'
        throw new GraphQueryError(`Graph could not be read (${why})`)
      }
      if (res.status === 429 && attempt < maxRetries) {
        const wait = Math.min(maxWaitMs, retryAfterMs(res.headers.get('retry-after')))
        options.onRetry?.(res.status, wait, attempt + 1)
        await sleep(wait)
        continue
      }
      if (res.status !== 200) {
        const code = graphErrorCode(text)
        const gaveUp = res.status === 429 ? ` (still throttled after ${maxRetries} retries)` : ''
        const hint =
          res.status === 403
            ? ': the identity needs the AuditLog.Read.All application permission'
            : ''
        throw new GraphQueryError(
          `Graph answered HTTP ${res.status} ${code ?? '(no error code)'}${gaveUp}${hint}`,
          res.status,
          code,
        )
      }
      try {
        return JSON.parse(text) as unknown
      } catch {
        throw new GraphQueryError('Graph answered something other than JSON', res.status)
      }
    }
  }
}
