// Runs the sources one OnTokenIssuanceStart call needs, concurrently, each under its own timeout
// inside the request deadline, through its cache. Never rejects: each source ends as a value or a
// failure, and the handler applies the source's policy.
import { ANSWER_RESERVE_MS } from '../deadline.js'
import type { SourceConfig } from '../extension-config/sources.js'
import type { TokenIssuanceStartEvent } from '../events/token-issuance-start/schema.js'
import type { HandlerContext } from '../events/handler-context.js'
import type { Logger } from '../log.js'
import { NO_REQUEST_TRACE } from '../telemetry/telemetry.js'
import { SourceError, type DataSource } from './data-source.js'
import { createSourceCache, type SourceCache } from './source-cache.js'

export type SourceOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly timedOut: boolean; readonly reason: string }

export interface SourceCall {
  readonly event: TokenIssuanceStartEvent
  /** The handler's context. Its signal is read only when a source is really called. */
  readonly context: HandlerContext
}

interface RunnableSource {
  readonly source: DataSource
  readonly config: SourceConfig
  readonly cache: SourceCache | undefined
}

export interface SourceRunner {
  /** Never rejects. A source answered from its cache makes no signal and no I/O. */
  run(names: readonly string[], call: SourceCall): Promise<Map<string, SourceOutcome>>
}

export function createSourceRunner(
  sources: ReadonlyMap<string, { readonly source: DataSource; readonly config: SourceConfig }>,
  now: () => number = Date.now,
): SourceRunner {
  const runnable = new Map<string, RunnableSource>()
  for (const [name, { source, config }] of sources) {
    const cache =
      config.cache === undefined
        ? undefined
        : createSourceCache({
            ttlMs: config.cache.ttlSeconds * 1000,
            staleMs: config.cache.staleOnErrorSeconds * 1000,
            maxEntries: config.cache.maxEntries,
            now,
          })
    runnable.set(name, { source, config, cache })
  }

  /** The outcome without I/O (a cache hit, or a request the source cannot make), or its key. */
  function settleAtOnce(entry: RunnableSource, call: SourceCall): SourceOutcome | string {
    const { source, cache } = entry
    const key = source.keyFor(call.event)
    if (key instanceof SourceError) return failed(source.name, key, 0, call.context.log)
    const cached = cache?.fresh(key)
    if (cache !== undefined)
      call.context.trace?.cache(source.name, cached === undefined ? 'miss' : 'hit')
    if (cached === undefined) return key
    call.context.log.debug('source_answer', { source: source.name, cache: 'hit', ms: 0 })
    return { ok: true, value: cached }
  }

  async function fetchOne(
    entry: RunnableSource,
    key: string,
    call: SourceCall,
  ): Promise<SourceOutcome> {
    const { source, config, cache } = entry
    const started = now()
    const span = (call.context.trace ?? NO_REQUEST_TRACE).source(source.name, config.type)
    const timeoutMs = Math.floor(
      Math.min(config.timeoutMs, call.context.remainingMs() - ANSWER_RESERVE_MS),
    )
    try {
      if (timeoutMs <= 0)
        throw new SourceError('no time left in the request budget', { timedOut: true })
      const value = await source.fetch(call.event, call.context.signal, timeoutMs)
      cache?.set(key, value)
      call.context.log.debug('source_answer', {
        source: source.name,
        cache: 'miss',
        ms: now() - started,
      })
      span.end('ok', now() - started)
      return { ok: true, value }
    } catch (err) {
      const error =
        err instanceof SourceError ? err : new SourceError('failed unexpectedly', { cause: err })
      const stale = cache?.stale(key)
      span.end(
        stale !== undefined ? 'stale' : error.timedOut ? 'timeout' : 'failed',
        now() - started,
      )
      if (stale !== undefined) {
        call.context.log.warn('source_stale', {
          source: source.name,
          reason: error.message,
          ageSeconds: Math.round((now() - stale.storedAt) / 1000),
        })
        return { ok: true, value: stale.value }
      }
      return failed(source.name, error, now() - started, call.context.log)
    }
  }

  return {
    async run(names, call) {
      const outcomes = new Map<string, SourceOutcome>()
      const pending: Promise<void>[] = []
      for (const name of names) {
        const entry = runnable.get(name)
        if (entry === undefined) throw new Error(`unknown source ${name}`) // the schema checks
        const settled = settleAtOnce(entry, call)
        if (typeof settled !== 'string') outcomes.set(name, settled)
        else
          pending.push(
            fetchOne(entry, settled, call).then((outcome) => {
              outcomes.set(name, outcome)
            }),
          )
      }
      // fetchOne never rejects (every failure is an outcome), so Promise.all cannot either.
      await Promise.all(pending)
      return outcomes
    },
  }
}

function failed(name: string, error: SourceError, ms: number, log: Logger): SourceOutcome {
  log.warn('source_failed', { source: name, reason: error.message, ms })
  return { ok: false, timedOut: error.timedOut, reason: error.message }
}
