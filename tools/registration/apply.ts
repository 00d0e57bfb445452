// apply(graph, plan): makes the plan's writes, in order. A placeholder ("<new app>") in a path or
// body is replaced by what Graph answered when the object it names was created; a write that names
// an object made a moment ago is retried on 404, because the replica that answers may not know it
// yet. Stops at the first write Graph refuses: what was done stays, and the next run plans the rest.
import type { GraphClient } from '../graph/client.js'
import { GraphError } from '../graph/graph-error.js'
import { isWrite, type GraphWrite, type Plan, type WriteChange } from './changes.js'

export class ApplyError extends Error {
  override readonly name = 'ApplyError'
}

/** How often, and after how long, a write naming an object made in this run is retried on 404. */
const REPLICATION_RETRIES_MS = [1000, 2000, 4000, 8000]

export interface Applied {
  /** A text with each placeholder replaced by what Graph's answer gave it. */
  readonly resolve: (text: string) => string
  /** A write as it was sent: the placeholders in its path (encoded) and its body replaced. */
  readonly resolveRequest: <R extends Pick<GraphWrite, 'path'> & { readonly body?: unknown }>(
    request: R,
  ) => R
}

function substitute(value: unknown, refs: ReadonlyMap<string, string>, encode: boolean): unknown {
  if (typeof value === 'string') {
    let text = value
    for (const [name, id] of refs)
      text = text.replaceAll(name, encode ? encodeURIComponent(id) : id)
    return text
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, refs, encode))
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, refs, encode)]),
    )
  return value
}

export async function apply(
  graph: GraphClient,
  plan: Plan,
  /** After each write; `applied` resolves what was created so far (this write's objects too). */
  onWrite: (change: WriteChange, index: number, total: number, applied: Applied) => void = () => {},
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<Applied> {
  const refs = new Map<string, string>()
  const applied: Applied = {
    resolve: (text) => substitute(text, refs, false) as string,
    resolveRequest: (request) => ({
      ...request,
      path: substitute(request.path, refs, true) as string,
      ...(request.body === undefined ? {} : { body: substitute(request.body, refs, false) }),
    }),
  }
  const writes = plan.changes.filter(isWrite)
  for (const [index, change] of writes.entries()) {
    const path = substitute(change.request.path, refs, true) as string
    const body = substitute(change.request.body, refs, false)
    const upsert = change.request.headers?.Prefer === 'create-if-missing'
    let answer: Record<string, unknown> | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        answer =
          change.request.method === 'POST'
            ? await graph.post<Record<string, unknown>>(path, body)
            : upsert
              ? await graph.upsert<Record<string, unknown>>(path, body)
              : (await graph.patch(path, body), undefined)
        break
      } catch (err) {
        const wait = REPLICATION_RETRIES_MS[attempt]
        const fresh = (change.needs ?? []).length > 0
        if (!(fresh && err instanceof GraphError && err.status === 404 && wait !== undefined))
          throw err
        await sleep(wait)
      }
    }
    if (change.kind === 'create' && Object.keys(change.binds).length > 0) {
      // Graph's upsert answers 204 when another run made the object since it was read: read it.
      if (answer === undefined && upsert) answer = await graph.find<Record<string, unknown>>(path)
      for (const [name, property] of Object.entries(change.binds)) {
        const value = answer?.[property]
        if (typeof value !== 'string' || value === '')
          throw new ApplyError(`${change.request.method} ${path}: Graph answered no ${property}`)
        refs.set(name, value)
      }
    }
    onWrite(change, index, writes.length, applied)
  }
  return applied
}
