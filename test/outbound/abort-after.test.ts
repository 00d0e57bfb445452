// abortAfter: the per-call signal of every outbound call. Its reason to exist is a garbage
// collection hazard (nodejs/node#57736), so one test runs it in a child with --expose-gc and
// collects garbage while the timeout is pending.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { abortAfter } from '../../src/outbound/abort-after.js'

const ROOT = new URL('../../', import.meta.url).pathname

describe('abortAfter', () => {
  it('aborts after its time with a TimeoutError, and says it was the timeout', async () => {
    const parent = new AbortController()
    const call = abortAfter(parent.signal, 20)
    await once(call.signal, 'abort')
    expect(call.timedOut()).toBe(true)
    expect((call.signal.reason as DOMException).name).toBe('TimeoutError')
    expect(parent.signal.aborted).toBe(false)
  })

  it('aborts with the parent, with the parent’s reason, and not as a timeout', () => {
    const parent = new AbortController()
    const call = abortAfter(parent.signal, 10_000)
    parent.abort(new Error('deadline'))
    expect(call.signal.aborted).toBe(true)
    expect((call.signal.reason as Error).message).toBe('deadline')
    expect(call.timedOut()).toBe(false)
    call.dispose()
  })

  it('starts aborted under an aborted parent; after dispose() it never fires', async () => {
    const done = new AbortController()
    done.abort()
    expect(abortAfter(done.signal, 10_000).signal.aborted).toBe(true)
    const call = abortAfter(undefined, 5)
    call.dispose()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(call.signal.aborted).toBe(false)
  })

  it('fires on time while garbage is collected under it (the Node 20 AbortSignal.any hazard)', async () => {
    const script = `
      import { abortAfter } from './src/outbound/abort-after.ts'
      const parent = new AbortController() // never aborts: only the timeout can end the wait
      const started = performance.now()
      const fired = new Promise((resolve) => {
        abortAfter(parent.signal, 100).signal.addEventListener('abort', () => resolve(performance.now() - started))
      })
      const collector = setInterval(() => globalThis.gc(), 5)
      const late = new Promise((resolve) => setTimeout(() => resolve('never'), 2000))
      const result = await Promise.race([fired, late])
      clearInterval(collector)
      process.stdout.write(String(result))
      process.exit(0)
    `
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    await once(child, 'close')
    expect(out).not.toBe('never')
    expect(Number(out)).toBeGreaterThanOrEqual(99)
  })
})
