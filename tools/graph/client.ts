// The operator tools' one Microsoft Graph client: JSON over the global fetch, a bearer token from
// an @azure/identity credential, every call time-boxed and its answer read up to a limit, paging
// by @odata.nextLink that never leaves Graph's origin and stops at a cap, 429 (and 503, except on
// a POST) retried after Retry-After a bounded number of times with an injectable sleep, JSON
// $batch (batch.ts), and one error class (graph-error.ts) that never carries a token or a body.
// Paths name their API version: /v1.0/… or /beta/….
// Why not @microsoft/microsoft-graph-client (which the endpoint's claims source uses): its retry
// middleware sleeps on real timers with its own back-off, it has no body-size limit, it does not
// retry the items of a $batch answer, and its errors carry Graph's body; each would be a custom
// middleware, which is more code than this file.
import type { TokenCredential } from '@azure/identity'
import { randomUUID } from 'node:crypto'
import { OutboundError, readLimited } from '../../src/outbound/fetch-json.js'
import { RETRY_AFTER_FALLBACK_MS, sendBatch, type BatchRequest, type BatchResult } from './batch.js'
import { retryAfterMs } from '../../src/outbound/retry-after.js'
import { GraphError, type GraphFailure } from './graph-error.js'
import { tokenGetter } from './token.js'

export type GraphVersion = 'v1.0' | 'beta'
export type GraphMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'

export interface GraphRetry {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly waitMs: number
  /** 1 for the first retry. */
  readonly attempt: number
  /** For a $batch: how many of its requests are sent again. */
  readonly items?: number
}

export interface GraphClientOptions {
  /** GRAPH_BASE_URL, e.g. https://graph.microsoft.com (only its origin is used). */
  readonly baseUrl: string
  /** Tokens for `<origin>/.default`; the credential caches them. */
  readonly credential?: TokenCredential
  /**
   * Or a bearer-token getter, called before every request (an operator CLI's sign-in). Its errors
   * are its own: they reach the caller unchanged (an operator CLI's SignInError exits 2).
   */
  readonly getToken?: () => Promise<string>
  /** How long a token may take: minutes, as it may be a person's device-code sign-in. */
  readonly tokenTimeoutMs?: number
  /** Per request, token excluded. */
  readonly timeoutMs?: number
  readonly maxBytes?: number
  /** A collection longer than this many pages is an error (pages() and list()). */
  readonly maxPages?: number
  /** How many 429/503 answers in a row are retried (for a $batch: rounds of throttled items). */
  readonly maxRetries?: number
  /** The longest Retry-After honoured, in seconds (longer is cut to this). */
  readonly maxRetryAfterSeconds?: number
  readonly sleep?: (ms: number) => Promise<void>
  /** For Retry-After given as an HTTP date. */
  readonly now?: () => number
  readonly onRetry?: (retry: GraphRetry) => void
}

export interface RequestOptions {
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
  /** Appended as $select (Graph answers only these properties, plus id). */
  readonly select?: readonly string[]
}

export interface GraphPage<T> {
  readonly value: T[]
  /** 1 for the first page. */
  readonly page: number
  /** Whether Graph named a next page (the consumer may stop before it is fetched). */
  readonly hasMore: boolean
}

export interface GraphClient {
  readonly origin: string
  /** One request; the parsed JSON object, or undefined for an empty answer (204). */
  request<T = unknown>(method: GraphMethod, path: string, options?: RequestOptions): Promise<T>
  get<T = unknown>(path: string, options?: RequestOptions): Promise<T>
  /** GET, or undefined when Graph answers 404. */
  find<T = unknown>(path: string, options?: RequestOptions): Promise<T | undefined>
  /** A collection page by page, following @odata.nextLink only when the consumer asks for more. */
  pages<T = unknown>(path: string, options?: RequestOptions): AsyncGenerator<GraphPage<T>>
  /** Every page's `value`. */
  list<T = unknown>(path: string, options?: RequestOptions): Promise<T[]>
  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T | undefined>
  patch(path: string, body: unknown, options?: RequestOptions): Promise<void>
  /** PATCH with `Prefer: create-if-missing`: the object when created (201), undefined (204) when updated. */
  upsert<T = unknown>(path: string, body: unknown): Promise<T | undefined>
  delete(path: string): Promise<void>
  /** Up to 20 requests in one POST /{version}/$batch; throttled items are sent again (batch.ts). */
  batch(version: GraphVersion, requests: readonly BatchRequest[]): Promise<BatchResult[]>
}

/** A path segment for an alternate key, e.g. applications(appId='…'): quotes doubled (OData). */
export function keySegment(value: string): string {
  return encodeURIComponent(value.replace(/'/g, "''"))
}

const VERSIONED = /^\/(v1\.0|beta)\//
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The parts of an answer the client acts on. */
interface Answer {
  readonly status: number
  readonly body: unknown
}

export function createGraphClient(options: GraphClientOptions): GraphClient {
  const origin = new URL(options.baseUrl).origin
  const timeoutMs = options.timeoutMs ?? 30_000
  const tokenTimeoutMs = options.tokenTimeoutMs ?? 300_000
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024
  const maxPages = options.maxPages ?? 50
  const maxRetries = options.maxRetries ?? 4
  const maxWaitMs = (options.maxRetryAfterSeconds ?? 60) * 1000
  const sleep = options.sleep ?? realSleep
  const now = options.now ?? Date.now
  const getToken = tokenGetter(options, origin, tokenTimeoutMs)

  const toUrl = (path: string, select: readonly string[] | undefined): URL => {
    if (!VERSIONED.test(path)) throw new TypeError(`a Graph path starts with /v1.0/ or /beta/`)
    const url = new URL(`${origin}${path}`)
    if (select !== undefined && select.length > 0) {
      const joiner = url.search === '' ? '?' : '&'
      return new URL(`${url.href}${joiner}$select=${select.map(encodeURIComponent).join(',')}`)
    }
    return url
  }

  async function send(
    method: GraphMethod,
    url: URL,
    req: RequestOptions,
    allow404: boolean,
  ): Promise<Answer> {
    const path = url.pathname
    for (let attempt = 0; ; attempt++) {
      const fail = (failure: GraphFailure, problem: string, status?: number) =>
        new GraphError({ failure, method, path, problem, status, retries: attempt })
      const token = await getToken(method, path)
      const clientRequestId = randomUUID()
      let res: Response
      try {
        res = await fetch(url, {
          method,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            'client-request-id': clientRequestId,
            ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...req.headers,
          },
          ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
        })
      } catch (cause) {
        const timedOut = cause instanceof Error && cause.name === 'TimeoutError'
        throw timedOut
          ? fail('timeout', `no answer within ${timeoutMs} ms`)
          : fail('network', 'the connection failed')
      }
      let text: string
      try {
        text = await readLimited(res, maxBytes)
      } catch (cause) {
        throw cause instanceof OutboundError && cause.failure === 'too-large'
          ? fail('too-large', `the answer is larger than ${maxBytes} bytes`, res.status)
          : fail('network', 'the answer could not be read', res.status)
      }
      // 429 means Graph did nothing; a 503 may come after a write was committed, so a POST is
      // not repeated on it (a second create would be a duplicate).
      const retriable = res.status === 429 || (res.status === 503 && method !== 'POST')
      if (retriable && attempt < maxRetries) {
        const waitMs = Math.min(
          maxWaitMs,
          retryAfterMs(res.headers.get('retry-after'), RETRY_AFTER_FALLBACK_MS, now()),
        )
        options.onRetry?.({ method, path, status: res.status, waitMs, attempt: attempt + 1 })
        await sleep(waitMs)
        continue
      }
      if (res.status === 404 && allow404) return { status: 404, body: undefined }
      if (res.status < 200 || res.status > 299) {
        const { code, message } = graphErrorBody(text)
        throw new GraphError({
          failure: 'status',
          method,
          path,
          status: res.status,
          code,
          graphMessage: message,
          requestId: res.headers.get('request-id') ?? undefined,
          clientRequestId: res.headers.get('client-request-id') ?? clientRequestId,
          retries: attempt,
        })
      }
      if (res.status === 204 || text.trim() === '') return { status: res.status, body: undefined }
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        throw fail('not-json', 'the answer is not JSON', res.status)
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw fail('not-json', 'the answer is not a JSON object', res.status)
      return { status: res.status, body: parsed }
    }
  }

  async function* pages<T>(path: string, opts: RequestOptions = {}): AsyncGenerator<GraphPage<T>> {
    let next: URL | undefined = toUrl(path, opts.select)
    for (let page = 1; next !== undefined; page++) {
      const where = next.pathname
      const paging = (problem: string) =>
        new GraphError({ failure: 'paging', method: 'GET', path: where, problem })
      if (page > maxPages) throw paging(`more than ${maxPages} pages, stopped`)
      const { body } = await send('GET', next, opts, false)
      const { value, '@odata.nextLink': link } = (body ?? {}) as {
        value?: unknown
        '@odata.nextLink'?: unknown
      }
      if (!Array.isArray(value)) throw paging(`page ${page} has no "value" list`)
      if (link === undefined || link === null) next = undefined
      else if (typeof link !== 'string' || !URL.canParse(link, origin))
        throw paging(`page ${page} has an unreadable @odata.nextLink`)
      else if (new URL(link, origin).origin !== origin)
        throw paging(`@odata.nextLink on page ${page} leaves ${origin}: not followed`)
      else next = new URL(link, origin)
      yield { value: value as T[], page, hasMore: next !== undefined }
    }
  }

  const client: GraphClient = {
    origin,
    async request<T>(method: GraphMethod, path: string, opts: RequestOptions = {}) {
      return (await send(method, toUrl(path, opts.select), opts, false)).body as T
    },
    async get<T>(path: string, opts: RequestOptions = {}) {
      const { body } = await send('GET', toUrl(path, opts.select), opts, false)
      if (body === undefined)
        throw new GraphError({ failure: 'not-json', method: 'GET', path, problem: 'empty answer' })
      return body as T
    },
    async find<T>(path: string, opts: RequestOptions = {}) {
      return (await send('GET', toUrl(path, opts.select), opts, true)).body as T | undefined
    },
    pages,
    async list<T>(path: string, opts: RequestOptions = {}) {
      const items: T[] = []
      for await (const page of pages<T>(path, opts)) items.push(...page.value)
      return items
    },
    async post<T>(path: string, body?: unknown, opts: RequestOptions = {}) {
      const url = toUrl(path, opts.select)
      return (await send('POST', url, { ...opts, body: body ?? {} }, false)).body as T | undefined
    },
    async patch(path: string, body: unknown, opts: RequestOptions = {}) {
      await send('PATCH', toUrl(path, opts.select), { ...opts, body }, false)
    },
    async upsert<T>(path: string, body: unknown) {
      const headers = { prefer: 'create-if-missing' }
      return (await send('PATCH', toUrl(path, undefined), { body, headers }, false)).body as
        T | undefined
    },
    async delete(path: string) {
      await send('DELETE', toUrl(path, undefined), {}, false)
    },
    batch(version, requests) {
      return sendBatch(client, version, requests, {
        maxRetries,
        maxWaitMs,
        sleep,
        now,
        onRetry: options.onRetry,
      })
    },
  }
  return client
}

/** Graph's error body `{ error: { code, message } }`, when it is one. */
function graphErrorBody(text: string): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } } | null
    const code = body?.error?.code
    const message = body?.error?.message
    return {
      ...(typeof code === 'string' && /^[\w.-]{1,100}$/.test(code) ? { code } : {}),
      ...(typeof message === 'string'
        ? { message: message.replace(/[^\x20-\x7e]/g, ' ').slice(0, 500) }
        : {}),
    }
  } catch {
    return {}
  }
}
