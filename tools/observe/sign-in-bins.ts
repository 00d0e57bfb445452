// The time and app breakdowns of the sign-in insights: calls per UTC hour or day over the whole
// range (zero-filled), failures by reason and error code, a few correlation IDs per error and
// period (they join to the endpoint's log lines), and calls per client app.
import { FAILURE_REASONS, failureReason, type FailureReason } from './error-codes.js'

export type BinUnit = 'hour' | 'day'
export type ReasonCounts = Readonly<Record<FailureReason, number>>

export interface CodeCount {
  readonly code: number
  readonly count: number
}

export interface CorrelationSample {
  readonly code: number
  /** The first few sign-ins' correlation IDs with this error in this period. */
  readonly correlationIds: readonly string[]
}

export interface BinCounts {
  /** ISO start (inclusive) and end (exclusive) of the UTC hour or day. */
  readonly start: string
  readonly end: string
  /** The range asked for starts or ends inside this period. */
  readonly partial: boolean
  readonly calls: number
  readonly failures: number
  /** failures / calls, rounded to 4 decimals (0 without calls). */
  readonly failureRate: number
  readonly byReason: ReasonCounts
  /** Most frequent first. */
  readonly byErrorCode: readonly CodeCount[]
  readonly samples: readonly CorrelationSample[]
}

export interface AppCounts {
  /** The sign-in's appId ("unknown" without one). */
  readonly appId: string
  readonly appDisplayName: string
  readonly calls: number
  readonly failures: number
  readonly successRate: number
  readonly byErrorCode: readonly CodeCount[]
}

/** One call as the breakdowns see it. */
export interface CallFacts {
  readonly at: number
  readonly failed: boolean
  readonly httpStatus: number | null | undefined
  readonly errorCode: number
  readonly correlationId: string | undefined
  readonly appId: string | undefined
  readonly appDisplayName: string | undefined
}

export const SAMPLES_PER_ERROR = 3
const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Hourly bins for a range up to 48 hours, daily beyond. */
export const binUnitFor = (since: number, until: number): BinUnit =>
  until - since <= 48 * HOUR ? 'hour' : 'day'

export const binStartOf = (at: number, unit: BinUnit): number =>
  at - (((at % binMs(unit)) + binMs(unit)) % binMs(unit))

export const binMs = (unit: BinUnit): number => (unit === 'hour' ? HOUR : DAY)

const round4 = (n: number) => Math.round(n * 10_000) / 10_000

const zeroReasons = (): Record<FailureReason, number> =>
  Object.fromEntries(FAILURE_REASONS.map((r) => [r, 0])) as Record<FailureReason, number>

const sortedCodes = (codes: Map<number, number>): CodeCount[] =>
  [...codes].sort(([a, m], [b, n]) => n - m || a - b).map(([code, count]) => ({ code, count }))

class Tally {
  calls = 0
  failures = 0
  readonly reasons = zeroReasons()
  readonly codes = new Map<number, number>()
  readonly samples = new Map<number, string[]>()

  add(call: CallFacts): void {
    this.calls += 1
    if (call.failed) {
      this.failures += 1
      this.reasons[failureReason(call.httpStatus, call.errorCode)] += 1
    }
    if (call.errorCode === 0) return
    this.codes.set(call.errorCode, (this.codes.get(call.errorCode) ?? 0) + 1)
    if (call.correlationId !== undefined) this.sample(call.errorCode, [call.correlationId])
  }

  merge(other: Tally): void {
    this.calls += other.calls
    this.failures += other.failures
    for (const r of FAILURE_REASONS) this.reasons[r] += other.reasons[r]
    for (const [code, n] of other.codes) this.codes.set(code, (this.codes.get(code) ?? 0) + n)
    for (const [code, ids] of other.samples) this.sample(code, ids)
  }

  private sample(code: number, ids: readonly string[]): void {
    const kept = this.samples.get(code) ?? []
    kept.push(...ids.slice(0, SAMPLES_PER_ERROR - kept.length))
    this.samples.set(code, kept)
  }
}

/** Collects one extension's calls by UTC hour (merged into days when asked) and by app. */
export class Breakdown {
  readonly reasons = zeroReasons()
  private readonly hours = new Map<number, Tally>()
  private readonly apps = new Map<string, { name: string; tally: Tally }>()

  add(call: CallFacts): void {
    if (call.failed) this.reasons[failureReason(call.httpStatus, call.errorCode)] += 1
    const hour = binStartOf(call.at, 'hour')
    let tally = this.hours.get(hour)
    if (tally === undefined) this.hours.set(hour, (tally = new Tally()))
    tally.add(call)
    const appId = call.appId ?? 'unknown'
    let app = this.apps.get(appId)
    if (app === undefined)
      this.apps.set(appId, (app = { name: call.appDisplayName ?? '', tally: new Tally() }))
    app.tally.add(call)
  }

  /** Every period from the one holding `since` to the one before `until`, calls or not. */
  binsFor(since: number, until: number, unit: BinUnit): BinCounts[] {
    const merged = new Map<number, Tally>()
    for (const hour of [...this.hours.keys()].sort((a, b) => a - b)) {
      const start = binStartOf(hour, unit)
      let tally = merged.get(start)
      if (tally === undefined) merged.set(start, (tally = new Tally()))
      tally.merge(this.hours.get(hour) ?? new Tally())
    }
    const out: BinCounts[] = []
    for (let start = binStartOf(since, unit); start < until; start += binMs(unit)) {
      const end = start + binMs(unit)
      const t = merged.get(start) ?? new Tally()
      out.push({
        start: new Date(start).toISOString(),
        end: new Date(end).toISOString(),
        partial: since > start || until < end,
        calls: t.calls,
        failures: t.failures,
        failureRate: t.calls === 0 ? 0 : round4(t.failures / t.calls),
        byReason: { ...t.reasons },
        byErrorCode: sortedCodes(t.codes),
        samples: [...t.samples]
          .sort(([a], [b]) => (t.codes.get(b) ?? 0) - (t.codes.get(a) ?? 0) || a - b)
          .map(([code, correlationIds]) => ({ code, correlationIds })),
      })
    }
    return out
  }

  /** Most calls first. */
  byApp(): AppCounts[] {
    return [...this.apps]
      .map(([appId, { name, tally }]) => ({
        appId,
        appDisplayName: name,
        calls: tally.calls,
        failures: tally.failures,
        successRate: tally.calls === 0 ? 0 : round4((tally.calls - tally.failures) / tally.calls),
        byErrorCode: sortedCodes(tally.codes),
      }))
      .sort((a, b) => b.calls - a.calls || (a.appId < b.appId ? -1 : 1))
  }
}

/** The period with the most failures (the earlier on a tie), or null without any. */
export function worstPeriod(bins: readonly BinCounts[]): BinCounts | null {
  let worst: BinCounts | null = null
  for (const bin of bins) if (bin.failures > (worst?.failures ?? 0)) worst = bin
  return worst
}
