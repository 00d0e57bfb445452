// A small Microsoft Graph REST client for the operator CLIs (`register`, `doctor`): JSON in and
// out, every call time-boxed, every body read up to a limit, paging that never leaves Graph's
// origin and stops at a cap, and 429/503 answers retried after Retry-After a bounded number of
// times. Errors name the method, the path and Graph's error code and message, never the token.
// (The endpoint's own Graph source uses @microsoft/microsoft-graph-client under a per-request
// deadline; these CLIs have no deadline but a human waiting, so they need a simpler contract.)
import { OutboundError, readLimited } from '../../src/outbound/fetch-json.js'
import { printable } from './entra-objects.js'

export class GraphApiError extends Error {
  override readonly name = 'GraphApiError'
  readonly method: string
  readonly path: string
  readonly status: number | undefined
  readonly code: string | undefined
  readonly graphMessage: string | undefined

  constructor(
    method: string,
    path: string,
    problem: string,
    status?: number,
    code?: string,
    graphMessage?: string,
  ) {
    super(`${method} ${path}: ${problem}`)
    this.method = method
    this.path = path
    this.status = status
    this.code = code
    this.graphMessage = graphMessage
  }
}

export interface GraphApiOptions {
  /** GRAPH_BASE_URL, e.g. https://graph.microsoft.com (paths name their version: /v1.0/…). */
  readonly baseUrl: string
  /** A bearer token for Graph; called before every request (credentials cache their tokens). */
  readonly getToken: () => Promise<string>
  readonly timeoutMs?: number
  readonly maxBytes?: number
  readonly maxPages?: number
  /** How many 429/503 answers in a row are retried. */
  readonly maxRetries?: number
  /** The longest Retry-After honoured, in seconds (longer is cut to this). */
  readonly maxRetryAfterSeconds?: number
  readonly onRetry?: (method: string, path: string, status: number, waitMs: number) => void
}

export interface GraphApi {
  readonly origin: string
  /** GET one object. */
  get<T = unknown>(path: string): Promise<T>
  /** GET one object, or undefined when Graph answers 404. */
  find<T = unknown>(path: string): Promise<T | undefined>
  /** GET a collection: every page's `value`, following @odata.nextLink. */
  list<T = unknown>(path: string): Promise<T[]>
  /** POST; the created object (or undefined for 204). */
  post<T = unknown>(path: string, body?: unknown): Promise<T | undefined>
  patch(path: string, body: unknown): Promise<void>
  /**
   * PATCH with `Prefer: create-if-missing` on an alternate key (application-upsert.md): the
   * created object when Graph answers 201, undefined when it answers 204 (it existed: updated).
   */
  upsert<T = unknown>(path: string, body: unknown): Promise<T | undefined>
  delete(path: string): Promise<void>
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'

/** Retry-After as seconds or an HTTP date, in ms; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null) return 1000
  const trimmed = header.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now)
}

/** Graph's error body `{ error: { code, message } }`, when it is one. */
function graphError(text: string): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } } | null
    const code = body?.error?.code
    const message = body?.error?.message
    return {
      ...(typeof code === 'string' && /^[\w.-]{1,100}$/.test(code) ? { code } : {}),
      ...(typeof message === 'string' ? { message: printable(message, 500) } : {}),
    }
  } catch {
    return {}
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export function createGraphApi(options: GraphApiOptions): GraphApi {
  const origin = new URL(options.baseUrl).origin
  const timeoutMs = options.timeoutMs ?? 30_000
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024
  const maxPages = options.maxPages ?? 50
  const maxRetries = options.maxRetries ?? 4
  const maxRetryAfterMs = (options.maxRetryAfterSeconds ?? 60) * 1000

  async function call(
    method: Method,
    url: string,
    body: unknown,
    allow404: boolean,
    prefer?: string,
  ): Promise<unknown> {
    const path = new URL(url).pathname
    for (let attempt = 0; ; attempt++) {
      const token = await options.getToken()
      let res: Response
      try {
        res = await fetch(url, {
          method,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(prefer === undefined ? {} : { prefer }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      } catch (cause) {
        const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
        throw new GraphApiError(
          method,
          path,
          timedOut ? `no answer within ${timeoutMs} ms` : 'the connection failed',
        )
      }
      let text: string
      try {
        text = await readLimited(res, maxBytes)
      } catch (cause) {
        throw new GraphApiError(
          method,
          path,
          cause instanceof OutboundError ? cause.message : 'the answer could not be read',
          res.status,
        )
      }
      // 429 means Graph did nothing; a 503 may come after a write was committed, so a POST is
      // not repeated on it (a second create would be a duplicate extension or listener).
      const retriable = res.status === 429 || (res.status === 503 && method !== 'POST')
      if (retriable && attempt < maxRetries) {
        const waitMs = Math.min(maxRetryAfterMs, retryAfterMs(res.headers.get('retry-after')))
        options.onRetry?.(method, path, res.status, waitMs)
        await sleep(waitMs)
        continue
      }
      if (res.status === 404 && allow404) return undefined
      if (res.status < 200 || res.status > 299) {
        const { code, message } = graphError(text)
        throw new GraphApiError(
          method,
          path,
          `HTTP ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`,
          res.status,
          code,
          message,
        )
      }
      if (res.status === 204 || text.trim() === '') return undefined
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        throw new GraphApiError(method, path, 'the answer is not JSON', res.status)
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new GraphApiError(method, path, 'the answer is not a JSON object', res.status)
      return parsed
    }
  }

  const url = (path: string) => `${origin}${path}`

  return {
    origin,
    async get<T>(path: string) {
      const body = await call('GET', url(path), undefined, false)
      if (body === undefined) throw new GraphApiError('GET', path, 'the answer is empty')
      return body as T
    },
    async find<T>(path: string) {
      return (await call('GET', url(path), undefined, true)) as T | undefined
    },
    async list<T>(path: string) {
      const items: T[] = []
      let next: string | undefined = url(path)
      for (let page = 0; next !== undefined; page++) {
        if (page >= maxPages)
          throw new GraphApiError('GET', path, `more than ${maxPages} pages, stopped`)
        const body = (await call('GET', next, undefined, false)) as
          { value?: unknown; '@odata.nextLink'?: unknown } | undefined
        if (!Array.isArray(body?.value))
          throw new GraphApiError('GET', path, 'the answer has no "value" list')
        items.push(...(body.value as T[]))
        const link = body['@odata.nextLink']
        if (typeof link !== 'string') next = undefined
        else if (new URL(link, origin).origin !== origin)
          throw new GraphApiError('GET', path, `@odata.nextLink leaves ${origin}, not followed`)
        else next = new URL(link, origin).href
      }
      return items
    },
    async post<T>(path: string, body?: unknown) {
      return (await call('POST', url(path), body ?? {}, false)) as T | undefined
    },
    async patch(path: string, body: unknown) {
      await call('PATCH', url(path), body, false)
    },
    async upsert<T>(path: string, body: unknown) {
      return (await call('PATCH', url(path), body, false, 'create-if-missing')) as T | undefined
    },
    async delete(path: string) {
      await call('DELETE', url(path), undefined, false)
    },
  }
}

/** A path segment for an alternate key, e.g. applications(appId='…'): quotes doubled (OData). */
export function keySegment(value: string): string {
  return encodeURIComponent(value.replace(/'/g, "''"))
}
