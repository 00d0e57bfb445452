// The request deadline is one AbortSignal. Work that cannot take the signal itself (a shared key
// fetch, a stream read, a handler) is raced against it; the work is aborted through the signal by
// whoever owns it, never left to decide the answer after the deadline.

/** Settles like `work`, or rejects with `onAbort()` as soon as `signal` aborts. */
export function raceSignal<T>(
  work: Promise<T>,
  signal: AbortSignal,
  onAbort: () => Error,
): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort())
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort())
    signal.addEventListener('abort', abort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort)
        reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}
