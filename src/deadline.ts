// The request deadline. One clock per process checks every in-flight deadline on a 10 ms tick,
// ticking only while requests are (or were, within one tick) in flight, so a request pays for neither a timer nor an
// AbortController unless it needs one: the signal is created on first use, for I/O that takes it
// (fetch), and aborted when the deadline passes or the request ends with work still running.
// Work that cannot take a signal (a shared key fetch, a body read, a handler) is raced with race().

/**
 * What outbound work leaves of the request budget for building and sending our own answer: a
 * call's timeout is at most the time remaining minus this, so its failure policy still has time.
 */
export const ANSWER_RESERVE_MS = 50

/** How late a deadline may fire. Budgets are hundreds of ms, so 10 ms is within the noise. */
export const DEADLINE_TICK_MS = 10

export interface Deadline {
  /** Created on first use; aborted when the deadline passes or the request ends early. */
  readonly signal: AbortSignal
  readonly expired: boolean
  /** Milliseconds until the deadline passes (0 once it has). */
  remainingMs(): number
  /** Settles like `work`, or rejects with `onExpire()` once the deadline passes. */
  race<T>(work: Promise<T>, onExpire: () => Error): Promise<T>
}

export interface RunningDeadline extends Deadline {
  /** Ends the deadline; `abortWork` aborts the signal (if one was handed out) for work still running. */
  finish(abortWork: boolean): void
}

export interface DeadlineClock {
  start(budgetMs: number): RunningDeadline
}

const FINISHED = new Error('the request has been answered')
const EXPIRED = new Error('the request budget ran out')

export function createDeadlineClock(
  now: () => number = performance.now.bind(performance),
): DeadlineClock {
  const active = new Set<DeadlineState>()
  let ticker: NodeJS.Timeout | undefined

  const tick = () => {
    // Stopped here, not when the last request finishes: requests that finish synchronously would
    // otherwise start and clear an interval each.
    if (active.size === 0) {
      clearInterval(ticker)
      ticker = undefined
      return
    }
    const at = now()
    for (const deadline of active) if (at >= deadline.expiresAt) deadline.expire()
  }
  const track = (deadline: DeadlineState) => {
    active.add(deadline)
    ticker ??= setInterval(tick, DEADLINE_TICK_MS).unref()
  }
  const untrack = (deadline: DeadlineState) => {
    active.delete(deadline)
  }

  return {
    start(budgetMs) {
      const deadline = new DeadlineState(now() + budgetMs, untrack, now)
      track(deadline)
      return deadline
    },
  }
}

class DeadlineState implements RunningDeadline {
  readonly expiresAt: number
  expired = false
  private controller: AbortController | undefined
  private waiters: Set<() => void> | undefined // most requests never race: made on first use
  private readonly untrack: (deadline: DeadlineState) => void
  private readonly now: () => number

  constructor(expiresAt: number, untrack: (deadline: DeadlineState) => void, now: () => number) {
    this.expiresAt = expiresAt
    this.untrack = untrack
    this.now = now
  }

  remainingMs(): number {
    return this.expired ? 0 : Math.max(0, this.expiresAt - this.now())
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController()
    if (this.expired && !this.controller.signal.aborted) this.controller.abort(EXPIRED)
    return this.controller.signal
  }

  race<T>(work: Promise<T>, onExpire: () => Error): Promise<T> {
    if (this.expired) {
      // Nobody will await `work` now: its rejection must not go unhandled (that ends the process).
      work.catch(() => undefined)
      return Promise.reject(onExpire())
    }
    return new Promise<T>((resolve, reject) => {
      const waiter = () => reject(onExpire())
      const waiters = (this.waiters ??= new Set())
      waiters.add(waiter)
      work.then(
        (value) => {
          waiters.delete(waiter)
          resolve(value)
        },
        (err: unknown) => {
          waiters.delete(waiter)
          reject(err instanceof Error ? err : new Error(String(err)))
        },
      )
    })
  }

  expire(): void {
    this.expired = true
    this.untrack(this)
    this.controller?.abort(EXPIRED) // a prepared reason: abort() alone builds a DOMException
    for (const waiter of this.waiters ?? []) waiter()
    this.waiters = undefined
  }

  finish(abortWork: boolean): void {
    this.untrack(this)
    if (abortWork) this.controller?.abort(FINISHED)
  }
}
