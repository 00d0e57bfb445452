// JSON $batch (Graph's json-batching): up to 20 requests in one POST /{version}/$batch, each
// answered on its own with a status, headers and body. Graph throttles the items of a batch one by
// one, so an item answered 429 (or 503 for a request other than a POST) is sent again in a smaller
// batch after the longest Retry-After among them, a bounded number of rounds; what is still
// throttled then comes back as it is, for the caller to report.
import type { GraphClient, GraphRetry, GraphVersion } from './client.js'
import { retryAfterMs } from '../../src/outbound/retry-after.js'
import { GraphError } from './graph-error.js'

/** The wait when Graph throttles without a readable Retry-After (the client's too). */
export const RETRY_AFTER_FALLBACK_MS = 1000

/** Graph's limit on the requests of one $batch. */
export const MAX_BATCH = 20

export interface BatchRequest {
  /** Unique within the batch. */
  readonly id: string
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  /** Relative to the version: /users?$filter=… */
  readonly url: string
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

export interface BatchResult {
  readonly id: string
  readonly status: number
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
  /** How many times this item was sent again after a 429/503. */
  readonly retries: number
}

export interface BatchPolicy {
  readonly maxRetries: number
  readonly maxWaitMs: number
  readonly sleep: (ms: number) => Promise<void>
  readonly now: () => number
  readonly onRetry?: ((retry: GraphRetry) => void) | undefined
}

interface WireResponse {
  readonly id?: unknown
  readonly status?: unknown
  readonly headers?: unknown
  readonly body?: unknown
}

export async function sendBatch(
  client: GraphClient,
  version: GraphVersion,
  requests: readonly BatchRequest[],
  policy: BatchPolicy,
): Promise<BatchResult[]> {
  const path = `/${version}/$batch`
  if (requests.length === 0) return []
  if (requests.length > MAX_BATCH)
    throw new TypeError(`a $batch holds at most ${MAX_BATCH} requests, not ${requests.length}`)
  if (new Set(requests.map((r) => r.id)).size !== requests.length)
    throw new TypeError('the ids of a $batch must be unique')
  if (requests.some((r) => !r.url.startsWith('/')))
    throw new TypeError('a $batch request url is relative to the version: /users…')

  const results = new Map<string, BatchResult>()
  let pending = requests
  for (let round = 0; ; round++) {
    const answer = await client.request<{ responses?: unknown }>('POST', path, {
      body: { requests: pending.map(toWire) },
    })
    const responses = Array.isArray(answer?.responses) ? (answer.responses as WireResponse[]) : []
    const byId = new Map<string, BatchResult>()
    for (const response of responses) {
      if (typeof response?.id !== 'string' || typeof response.status !== 'number') continue
      byId.set(response.id, {
        id: response.id,
        status: response.status,
        headers: lowerCaseHeaders(response.headers),
        body: response.body,
        retries: round,
      })
    }
    const missing = pending.filter((r) => !byId.has(r.id)).length
    if (missing > 0)
      throw new GraphError({
        failure: 'batch',
        method: 'POST',
        path,
        problem: `the answer lacks ${missing} of the ${pending.length} responses`,
      })
    const throttled = pending.filter((r) => {
      const status = byId.get(r.id)?.status
      return status === 429 || (status === 503 && r.method !== 'POST')
    })
    for (const r of pending) results.set(r.id, byId.get(r.id)!)
    if (throttled.length === 0 || round >= policy.maxRetries) break
    const waitMs = Math.min(
      policy.maxWaitMs,
      Math.max(
        ...throttled.map((r) =>
          retryAfterMs(
            byId.get(r.id)?.headers['retry-after'],
            RETRY_AFTER_FALLBACK_MS,
            policy.now(),
          ),
        ),
      ),
    )
    policy.onRetry?.({
      method: 'POST',
      path,
      status: byId.get(throttled[0]!.id)!.status,
      waitMs,
      attempt: round + 1,
      items: throttled.length,
    })
    await policy.sleep(waitMs)
    pending = throttled
  }
  return requests.map((r) => results.get(r.id)!)
}

function toWire(request: BatchRequest): Record<string, unknown> {
  const headers = { ...request.headers }
  if (request.body !== undefined) headers['content-type'] ??= 'application/json'
  return {
    id: request.id,
    method: request.method,
    url: request.url,
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    ...(request.body === undefined ? {} : { body: request.body }),
  }
}

function lowerCaseHeaders(headers: unknown): Record<string, string> {
  if (headers === null || typeof headers !== 'object') return {}
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers))
    if (typeof value === 'string') out[name.toLowerCase()] = value
  return out
}
