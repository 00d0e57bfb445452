// Claims sources backed by Microsoft Graph v1.0 through @microsoft/microsoft-graph-client, with a
// middleware chain of our own instead of the library's default one: the default RetryHandler
// waits 3 s up to 3 times, which no sign-in can afford. Ours, in order:
//   BearerToken   a token for the Function App's identity (@azure/identity, cached by it);
//   BudgetedRetry retries a 429/503/504 only when its Retry-After still fits the request deadline;
//   BoundedFetch  fetch with the request's signal, no redirects, at most 1 MiB of answer.
// The deadline reaches the middleware as a per-request MiddlewareOptions (the library's own way).
import {
  Client,
  GraphError,
  type Context,
  type Middleware,
  type MiddlewareOptions,
} from '@microsoft/microsoft-graph-client'
import type { GraphSourceConfig } from '../extension-config/sources.js'
import type { TokenIssuanceStartEvent } from '../events/token-issuance-start/schema.js'
import type { AccessTokenSource } from '../outbound/access-token.js'
import { abortAfter } from '../outbound/abort-after.js'
import { OutboundError, readLimited } from '../outbound/fetch-json.js'
import { retryAfterMs } from '../outbound/retry-after.js'
import { SourceError, type DataSource } from './data-source.js'
import { encodePathSegment } from './request-values.js'

const MAX_ANSWER_BYTES = 1_048_576
const MAX_RETRIES = 2
/** The wait when Graph throttles without a readable Retry-After: short, inside Entra's deadline. */
const RETRY_AFTER_FALLBACK_MS = 100
/** A retry is only worth making if this much time is left after waiting. */
const MIN_ATTEMPT_MS = 50
const RETRIED_STATUSES = new Set([429, 503, 504])

/** The request's signal and deadline, handed to the middleware with each Graph request. */
class RequestBudget implements MiddlewareOptions {
  readonly signal: AbortSignal
  readonly deadlineAt: number
  /** Our own error from inside the chain: the client rewraps errors as GraphError(-1). */
  failure: OutboundError | undefined
  constructor(signal: AbortSignal, deadlineAt: number) {
    this.signal = signal
    this.deadlineAt = deadlineAt
  }
}

function budgetOf(context: Context): RequestBudget {
  const budget = context.middlewareControl?.getMiddlewareOptions(RequestBudget)
  if (!(budget instanceof RequestBudget)) throw new Error('Graph request sent without a budget')
  return budget
}

abstract class Link implements Middleware {
  protected next: Middleware | undefined
  setNext(next: Middleware): void {
    this.next = next
  }
  abstract execute(context: Context): Promise<void>
  protected async pass(context: Context): Promise<void> {
    if (this.next === undefined) throw new Error('Graph middleware chain has no end')
    await this.next.execute(context)
  }
}

class BearerToken extends Link {
  private readonly tokens: AccessTokenSource
  constructor(tokens: AccessTokenSource) {
    super()
    this.tokens = tokens
  }
  async execute(context: Context): Promise<void> {
    const budget = budgetOf(context)
    const token = await this.tokens
      .getToken(budget.signal, budget.deadlineAt - performance.now())
      .catch((err: unknown) => {
        if (err instanceof OutboundError) budget.failure = err
        throw err
      })
    const headers = new Headers(context.options?.headers)
    headers.set('authorization', `Bearer ${token}`)
    context.options = { ...context.options, headers }
    await this.pass(context)
  }
}

class BudgetedRetry extends Link {
  async execute(context: Context): Promise<void> {
    const budget = budgetOf(context)
    for (let attempt = 0; ; attempt++) {
      await this.pass(context)
      const status = context.response?.status ?? 0
      if (!RETRIED_STATUSES.has(status) || attempt >= MAX_RETRIES) return
      const waitMs = retryAfterMs(
        context.response?.headers.get('retry-after'),
        RETRY_AFTER_FALLBACK_MS,
      )
      if (performance.now() + waitMs + MIN_ATTEMPT_MS > budget.deadlineAt) return
      await sleep(waitMs, budget.signal)
    }
  }
}

class BoundedFetch implements Middleware {
  async execute(context: Context): Promise<void> {
    const budget = budgetOf(context)
    const remaining = Math.max(1, Math.round(budget.deadlineAt - performance.now()))
    // GraphRequest always sends a URL string (the library types it with the DOM's RequestInfo).
    const url: unknown = context.request
    if (typeof url !== 'string') throw new Error('Graph request URL is not a string')
    const call = abortAfter(budget.signal, remaining)
    let res: Response
    let text: string
    try {
      res = await fetch(url, { ...context.options, signal: call.signal, redirect: 'manual' })
      text = await readLimited(res, MAX_ANSWER_BYTES).catch((err: unknown) => {
        if (err instanceof OutboundError) budget.failure = err
        throw err
      })
    } finally {
      call.dispose()
    }
    context.response = new Response(res.status === 204 ? null : text, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    })
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(new OutboundError('deadline', 'the request deadline passed'))
      },
      { once: true },
    )
  })
}

export interface GraphConnection {
  readonly client: Client
  /** e.g. https://graph.microsoft.com: page links must stay on it (our token goes with them). */
  readonly origin: string
}

export function createGraphConnection(baseUrl: string, tokens: AccessTokenSource): GraphConnection {
  const client = Client.initWithMiddleware({
    baseUrl: `${new URL(baseUrl).origin}/`,
    defaultVersion: 'v1.0',
    middleware: [new BearerToken(tokens), new BudgetedRetry(), new BoundedFetch()],
  })
  return { client, origin: new URL(baseUrl).origin }
}

type GraphObject = Record<string, unknown>

export function createGraphSource(
  name: string,
  config: GraphSourceConfig,
  graph: GraphConnection,
): DataSource {
  const select = config.select?.join(',')
  /** The user's id as one path segment: "." or ".." would pick another Graph path. */
  const keyFor = (event: TokenIssuanceStartEvent) => {
    const id = event.data.authenticationContext.user.id
    return id === undefined || id === null || id === ''
      ? new SourceError('the request has no user.id')
      : encodePathSegment(id, 'user.id')
  }

  async function get(path: string, budget: RequestBudget): Promise<GraphObject> {
    let request = graph.client.api(path).middlewareOptions([budget])
    if (select !== undefined && !path.startsWith('https://')) request = request.select(select)
    if (config.query === 'memberOf' || config.query === 'transitiveMemberOf') {
      if (!path.startsWith('https://')) request = request.top(Math.min(config.maxItems, 999))
    }
    const answer: unknown = await request.get()
    if (typeof answer !== 'object' || answer === null || Array.isArray(answer))
      throw new SourceError('Graph answered something other than an object')
    return answer as GraphObject
  }

  async function memberships(base: string, budget: RequestBudget): Promise<GraphObject> {
    const value: unknown[] = []
    let next: string | undefined = base
    let pages = 0
    while (next !== undefined && value.length < config.maxItems) {
      const page: GraphObject = await get(next, budget)
      pages++
      const items = Array.isArray(page.value) ? (page.value as unknown[]) : []
      for (const item of items) {
        if (!config.groupsOnly || isGroup(item)) value.push(item)
        if (value.length >= config.maxItems) break
      }
      const link = page['@odata.nextLink']
      next = typeof link === 'string' ? link : undefined
      if (next !== undefined && new URL(next).origin !== graph.origin)
        throw new SourceError('Graph sent a page link to another host')
      if (pages >= 50) break // a runaway server cannot keep us paging
    }
    return { value }
  }

  return {
    name,
    keyFor,
    async fetch(event, signal, timeoutMs) {
      const id = keyFor(event)
      if (id instanceof SourceError) throw id
      const budget = new RequestBudget(signal, performance.now() + timeoutMs)
      const user = `/users/${id}`
      try {
        switch (config.query) {
          case 'user':
            return await get(user, budget)
          case 'manager':
            return await get(`${user}/manager`, budget)
          case 'memberOf':
          case 'transitiveMemberOf':
            return await memberships(`${user}/${config.query}`, budget)
        }
      } catch (err) {
        // A user without a manager is an answer, not a failure.
        if (config.query === 'manager' && err instanceof GraphError && err.statusCode === 404)
          return null
        throw toSourceError(err, budget)
      }
    },
  }
}

function isGroup(item: unknown): boolean {
  return (
    typeof item === 'object' &&
    item !== null &&
    (item as GraphObject)['@odata.type'] === '#microsoft.graph.group'
  )
}

/** A message naming the status and Graph's error code, never Graph's message (it may hold ids). */
function toSourceError(thrown: unknown, budget: RequestBudget): SourceError {
  let err = thrown
  if (err instanceof SourceError) return err
  if (budget.failure !== undefined) err = budget.failure
  const timedOut = performance.now() >= budget.deadlineAt - 1 || budget.signal.aborted
  if (err instanceof OutboundError)
    return new SourceError(err.message, {
      timedOut: timedOut || err.failure === 'timeout' || err.failure === 'deadline',
      cause: err,
    })
  if (err instanceof GraphError && err.statusCode > 0) {
    const code = /^[A-Za-z_]{1,64}$/.test(err.code ?? '') ? ` (${err.code})` : ''
    return new SourceError(`Graph answered HTTP ${err.statusCode}${code}`, { cause: err })
  }
  if (timedOut)
    return new SourceError('Graph did not answer in time', { timedOut: true, cause: err })
  return new SourceError('the connection to Graph failed', { cause: err })
}
