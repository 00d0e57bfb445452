// A short run of `npm run soak` (bench/soak.ts) inside the suite: the same script, from source,
// for 10 s instead of 60. It passes only with no failed request, e-mails delivered, and resident
// memory within the stated bound in the second half. The 60 s run is `npm run soak` (README).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../../', import.meta.url).pathname
const SECONDS = 10
const RATE = 200

describe('npm run soak, short', () => {
  it(`serves all four routes for ${SECONDS} s with no failure and bounded memory`, async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/soak.ts',
        '--seconds',
        String(SECONDS),
        '--rate',
        String(RATE),
        '--from-source',
        '--json',
      ],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const [code] = (await once(child, 'close')) as [number | null]
    const summary = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
      requests: number
      statuses: Record<string, number>
      errors: number
      mails: number
      pass: boolean
      failures: string[]
      rssMiB: { growthSecondHalf?: number }
    }
    expect(summary.failures, stderr).toEqual([])
    expect(summary.pass).toBe(true)
    expect(code).toBe(0)
    expect(Object.keys(summary.statuses)).toEqual(['200'])
    expect(summary.errors).toBe(0)
    // Every fourth request is an OnOtpSend with a new recipient and code: each is one e-mail.
    expect(summary.mails).toBeGreaterThanOrEqual(Math.floor(summary.requests / 4) - 4)
    expect(summary.requests).toBeGreaterThan((SECONDS * RATE) / 4)
    expect(summary.rssMiB.growthSecondHalf).toBeTypeOf('number')
  }, 120_000)
})
