// JSON $batch for the Graph stand-in (POST /{v1.0|beta}/$batch): 1-20 requests with unique
// string ids, method, url (relative to the version), headers and body (a body needs a JSON
// content-type; dependsOn is not implemented), each answered through the same faults and routes
// as a request of its own; the responses come in reverse order, so clients must match them by id.
import { randomUUID } from 'node:crypto'
import {
  GraphStandInError,
  lowerCase,
  type GraphAnswer,
  type GraphCall,
  type RequestIds,
} from './graph-answers.js'

const MAX_BATCH = 20

export async function answerBatch(
  call: GraphCall,
  ids: RequestIds,
  route: (call: GraphCall, ids: RequestIds) => Promise<GraphAnswer>,
  record: (call: GraphCall, url: string, status: number) => void,
): Promise<GraphAnswer> {
  const items = (call.body as { requests?: unknown } | undefined)?.requests
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH)
    throw new GraphStandInError(
      400,
      'BadRequest',
      `A batch holds 1 to ${MAX_BATCH} requests in "requests".`,
    )
  const seen = new Set<string>()
  const responses: unknown[] = []
  for (const item of items as unknown[]) {
    const { id, method, url, body, headers, dependsOn, ...rest } = (item ?? {}) as Record<
      string,
      unknown
    >
    if (typeof id !== 'string' || id === '' || seen.has(id))
      throw new GraphStandInError(400, 'BadRequest', 'Each request needs a unique string id.')
    seen.add(id)
    if (dependsOn !== undefined || Object.keys(rest).length > 0)
      throw new GraphStandInError(
        400,
        'BadRequest',
        'The stand-in implements id, method, url, body and headers.',
      )
    if (typeof method !== 'string' || typeof url !== 'string')
      throw new GraphStandInError(400, 'BadRequest', `Request ${id} needs a method and a url.`)
    const itemHeaders = lowerCase(headers)
    if (body !== undefined && !/^application\/json\b/.test(itemHeaders['content-type'] ?? ''))
      throw new GraphStandInError(
        400,
        'BadRequest',
        `Request ${id} has a body without a JSON content-type.`,
      )
    const relative = new URL(url.replace(/^\/?/, '/'), 'https://batch.invalid')
    const itemCall: GraphCall = {
      method: method.toUpperCase(),
      version: call.version,
      path: `/${call.version}${relative.pathname}`,
      query: relative.searchParams,
      headers: itemHeaders,
      body,
      inBatch: true,
    }
    const answer = await route(itemCall, {
      requestId: randomUUID(),
      clientRequestId: ids.clientRequestId,
    })
    record(itemCall, url, answer.status)
    responses.push({
      id,
      status: answer.status,
      headers: { 'content-type': 'application/json', ...answer.headers },
      ...(answer.body === undefined ? {} : { body: answer.body }),
    })
  }
  return { status: 200, body: { responses: responses.reverse() } }
}
