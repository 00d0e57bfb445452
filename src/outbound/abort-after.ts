// A signal for one outbound call: aborted when the request's own signal is, or after `ms`.
//
// Not AbortSignal.any([parent, AbortSignal.timeout(ms)]): on Node 20 the inner timeout signal is
// only weakly held by the combined one and can be garbage-collected before it fires
// (nodejs/node#57736). The call then runs on until the parent's deadline instead of its own
// timeout (seen here: an optional source meant to stop at 200 ms held the request to 1500 ms). A
// timer holds its callback, and so the controller, until it fires or is cleared.
export interface CallSignal {
  readonly signal: AbortSignal
  /** Whether it was the timeout (not the parent) that aborted. */
  timedOut(): boolean
  /** Clears the timer and the listener; call it when the call settles. */
  dispose(): void
}

export function abortAfter(parent: AbortSignal | undefined, ms: number): CallSignal {
  const controller = new AbortController()
  let timedOut = false
  const onParentAbort = () => controller.abort(parent?.reason)
  if (parent?.aborted === true) onParentAbort()
  else parent?.addEventListener('abort', onParentAbort, { once: true })
  // Whole milliseconds, at least 1 (setTimeout would round a fraction down to 0 too).
  const timer = setTimeout(
    () => {
      timedOut = true
      controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
    },
    Math.max(1, Math.round(ms)),
  )
  timer.unref()
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose() {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParentAbort)
    },
  }
}
