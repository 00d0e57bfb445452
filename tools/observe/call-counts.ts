// Counts of extension calls (contract §8): successes, attempts and retries, by the last attempt's
// HTTP status and by error code.
import { describeErrorCode } from './error-codes.js'

export interface ErrorCodeCount {
  readonly code: number
  readonly name: string
  readonly meaning: string
  readonly count: number
}

export interface CallCounts {
  readonly calls: number
  /** httpStatus 200 and no errorCode (absent, null or 0). */
  readonly successes: number
  readonly failures: number
  /** successes / calls, rounded to 4 decimals. */
  readonly successRate: number
  /** numberOfAttempts summed (calls that do not report it add nothing). */
  readonly attempts: number
  /** numberOfAttempts − 1 summed. */
  readonly retries: number
  /** By the last attempt's httpStatus ("none" when not reported). */
  readonly byHttpStatus: Readonly<Record<string, number>>
  /** By errorCode, most frequent first. */
  readonly byErrorCode: readonly ErrorCodeCount[]
}

/** What a callout result says about its last attempt. */
export interface LastAttempt {
  readonly numberOfAttempts?: number | null | undefined
  readonly httpStatus?: number | null | undefined
  readonly errorCode?: number | null | undefined
}

export class Counter {
  calls = 0
  successes = 0
  attempts = 0
  retries = 0
  readonly statuses = new Map<string, number>()
  readonly codes = new Map<number, number>()

  add(call: LastAttempt): void {
    this.calls += 1
    const errorCode = call.errorCode ?? 0
    if (call.httpStatus === 200 && errorCode === 0) this.successes += 1
    if (typeof call.numberOfAttempts === 'number') {
      this.attempts += call.numberOfAttempts
      this.retries += Math.max(0, call.numberOfAttempts - 1)
    }
    const status =
      call.httpStatus === null || call.httpStatus === undefined ? 'none' : String(call.httpStatus)
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1)
    if (errorCode !== 0) this.codes.set(errorCode, (this.codes.get(errorCode) ?? 0) + 1)
  }

  counts(): CallCounts {
    const byHttpStatus: Record<string, number> = {}
    for (const key of [...this.statuses.keys()].sort())
      byHttpStatus[key] = this.statuses.get(key) ?? 0
    return {
      calls: this.calls,
      successes: this.successes,
      failures: this.calls - this.successes,
      successRate:
        this.calls === 0 ? 0 : Math.round((this.successes / this.calls) * 10_000) / 10_000,
      attempts: this.attempts,
      retries: this.retries,
      byHttpStatus,
      byErrorCode: [...this.codes]
        .sort(([a, m], [b, n]) => n - m || a - b)
        .map(([code, count]) => {
          const { name, meaning } = describeErrorCode(code)
          return { code, name, meaning, count }
        }),
    }
  }
}
