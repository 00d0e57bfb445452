// The load both servers get: autocannon, 10 keep-alive connections, no pipelining, a warm-up run
// that is not counted, then the measured run. Every response body must equal the expected one.
// Latency percentiles come from each 2xx response's own time (autocannon's histogram is whole ms).
import autocannon from 'autocannon'

export const CONNECTIONS = 10
export const WARMUP_S = 2

export interface Target {
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
  readonly expectBody: string
}

export interface Measured {
  readonly warmup: autocannon.Result
  readonly result: autocannon.Result
  /** Latency percentiles of the measured run's 2xx responses, in ms. */
  readonly p50: number
  readonly p99: number
}

export async function measure(target: Target, durationS: number): Promise<Measured> {
  const { result: warmup } = await fire(target, WARMUP_S)
  const { result, latencies } = await fire(target, durationS)
  latencies.sort((a, b) => a - b)
  return { warmup, result, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

/** What makes a run's numbers meaningless; empty when it is clean. */
export function problems(result: autocannon.Result): string[] {
  const found: string[] = []
  if (result.non2xx > 0) found.push(`${result.non2xx} non-2xx (${statusCounts(result)})`)
  if (result.errors > 0) found.push(`${result.errors} errors (${result.timeouts} timeouts)`)
  if (result.mismatches > 0) found.push(`${result.mismatches} bodies differ from the expected one`)
  if (result['2xx'] === 0) found.push('no 2xx responses at all')
  return found
}

function fire(target: Target, durationS: number) {
  const latencies: number[] = []
  return new Promise<{ result: autocannon.Result; latencies: number[] }>((resolve, reject) => {
    const options: autocannon.Options = {
      url: target.url,
      method: 'POST',
      headers: target.headers,
      body: target.body,
      expectBody: target.expectBody,
      connections: CONNECTIONS,
      pipelining: 1,
      duration: durationS,
      timeout: 10,
    }
    const instance = autocannon(options, (err: unknown, result) => {
      if (err === null || err === undefined) resolve({ result, latencies })
      else reject(err instanceof Error ? err : new Error('autocannon failed', { cause: err }))
    })
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms)
    })
  })
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

function statusCounts(result: autocannon.Result): string {
  return Object.entries(result.statusCodeStats ?? {})
    .map(([status, stats]) => `${status}: ${stats.count ?? 0}`)
    .join(', ')
}

export interface AllAnswers {
  /** Every answer's latency in ms, whatever its status, sorted. */
  readonly latencies: number[]
  readonly statuses: Record<string, number>
  readonly errors: number
  readonly timeouts: number
}

/** A run that keeps every answer (not only 2xx): for the deadline, where lateness is the point. */
export async function measureAll(target: Target, durationS: number): Promise<AllAnswers> {
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target.url,
        method: 'POST',
        headers: target.headers,
        body: target.body,
        connections: CONNECTIONS,
        pipelining: 1,
        duration: durationS,
        timeout: 10,
      },
      (err: unknown, res) =>
        err === null || err === undefined
          ? resolve(res)
          : reject(err instanceof Error ? err : new Error('autocannon failed', { cause: err })),
    )
    instance.on('response', (_client, status, _bytes, ms) => {
      latencies.push(ms)
      statuses[status] = (statuses[status] ?? 0) + 1
    })
  })
  latencies.sort((a, b) => a - b)
  return { latencies, statuses, errors: result.errors, timeouts: result.timeouts }
}

export { percentile }
