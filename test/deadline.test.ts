// The request deadline: races settle with the work or with the deadline's own error, the signal is
// made only on demand and aborted when the deadline passes or the request ends with work running.
import { describe, expect, it } from 'vitest'
import { createDeadlineClock } from '../src/deadline.js'

const late = () => new Error('late')

describe('deadline', () => {
  const clock = createDeadlineClock()

  it('settles a race with the work when the work is first', async () => {
    const deadline = clock.start(1000)
    await expect(deadline.race(Promise.resolve(42), late)).resolves.toBe(42)
    await expect(deadline.race(Promise.reject(new TypeError('boom')), late)).rejects.toThrow('boom')
    deadline.finish(false)
  })

  it('counts the time remaining down on its own clock, to 0 once expired', () => {
    let at = 1000
    const manual = createDeadlineClock(() => at)
    const deadline = manual.start(300)
    expect(deadline.remainingMs()).toBe(300)
    at += 120
    expect(deadline.remainingMs()).toBe(180)
    at += 500
    expect(deadline.remainingMs()).toBe(0)
    deadline.finish(false)
  })

  it('rejects a pending race with the deadline error once the budget passes, and aborts the signal', async () => {
    const deadline = clock.start(20)
    const signal = deadline.signal
    await expect(deadline.race(new Promise(() => undefined), late)).rejects.toThrow('late')
    expect(deadline.expired).toBe(true)
    expect(signal.aborted).toBe(true)
    await expect(deadline.race(Promise.resolve(1), late)).rejects.toThrow('late')
  })

  it('leaves no unhandled rejection when work fails after the deadline has passed', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const deadline = clock.start(10)
      await expect(deadline.race(new Promise(() => undefined), late)).rejects.toThrow('late')
      let fail: (err: Error) => void = () => undefined
      const work = new Promise<never>((_, reject) => (fail = reject))
      await expect(deadline.race(work, late)).rejects.toThrow('late')
      fail(new Error('the body could not be read'))
      await new Promise((resolve) => setImmediate(resolve))
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('hands out an already-aborted signal after expiry', async () => {
    const deadline = clock.start(10)
    await expect(deadline.race(new Promise(() => undefined), late)).rejects.toThrow('late')
    expect(deadline.signal.aborted).toBe(true)
  })

  it('aborts outstanding work only when finished with abortWork', () => {
    const kept = clock.start(1000)
    const keptSignal = kept.signal
    kept.finish(false)
    expect(keptSignal.aborted).toBe(false)
    const stopped = clock.start(1000)
    const stoppedSignal = stopped.signal
    stopped.finish(true)
    expect(stoppedSignal.aborted).toBe(true)
  })
})
