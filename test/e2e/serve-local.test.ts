// `npm start` and `npm run replay` as a user runs them: real processes, real sockets, no Azure.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixturePath } from '../support/fixtures.js'

const ROOT = new URL('../../', import.meta.url).pathname
const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn' }

interface Run {
  readonly child: ChildProcess
  stdout: string
  stderr: string
}

function run(script: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: { ...BASE_ENV, ...env },
  })
  const result: Run = { child, stdout: '', stderr: '' }
  child.stdout?.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()))
  return result
}

async function exitCode(r: Run): Promise<number | null> {
  if (r.child.exitCode !== null) return r.child.exitCode
  const [code] = (await once(r.child, 'exit')) as [number | null]
  return code
}

async function listeningUrl(r: Run): Promise<string> {
  for (;;) {
    const match = /listening on (http:\/\/\S+)/.exec(r.stderr)
    if (match?.[1] !== undefined) return match[1]
    if (r.child.exitCode !== null) throw new Error(`server exited: ${r.stderr}`)
    await once(r.child.stderr ?? r.child, 'data')
  }
}

describe('npm start (src/http/serve-local.ts)', () => {
  it('prints every configuration problem, without values, and exits 1', async () => {
    const secret = 'hunter2-is-not-a-guid'
    const r = run('src/http/serve-local.ts', [], {
      ENTRA_TENANT_ID: secret,
      REQUEST_BUDGET_MS: '99999',
      EXTENSION_CONFIG: '/missing.json',
    })
    expect(await exitCode(r)).toBe(1)
    expect(r.stderr).toContain('The endpoint cannot start; fix its configuration:')
    expect(r.stderr).toContain('  - ENTRA_TENANT_ID: must be a GUID')
    expect(r.stderr).toContain('  - ENTRA_AUDIENCE: is required')
    expect(r.stderr).toContain(
      '  - REQUEST_BUDGET_MS: must be a whole number of milliseconds from 100 to 1900 (default 750)',
    )
    expect(r.stderr).toContain('  - EXTENSION_CONFIG: /missing.json: file not found')
    expect(r.stderr + r.stdout).not.toContain(secret)
  })

  it.each(['seventy', '0x1F90', '70000'])(
    "reports PORT=%s (decimal digits only, with the range) together with the endpoint's own problems",
    async (port) => {
      const r = run('src/http/serve-local.ts', [], {
        PORT: port,
        ENTRA_TENANT_ID: '11111111-2222-4333-8444-555555555555',
      })
      expect(await exitCode(r)).toBe(1)
      expect(r.stderr).toContain('  - PORT: must be a whole number from 0 to 65535 (default 7071)')
      expect(r.stderr).toContain('  - ENTRA_AUDIENCE: is required')
    },
  )

  it('refuses dev mode on a non-loopback host', async () => {
    const r = run('src/http/serve-local.ts', [], { HOST: '0.0.0.0', PORT: '0' })
    expect(await exitCode(r)).toBe(1)
    expect(r.stderr).toContain(
      'HOST: dev mode (ENTRA_TENANT_ID unset) listens on a loopback host only',
    )
  })
})

describe('npm start itself', () => {
  /** `npm start` in its own process group (npm runs a shell that runs node): stopped as a whole. */
  async function npmStart<T>(use: (url: string, r: Run) => Promise<T>): Promise<T> {
    const child = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { ...BASE_ENV, PORT: '0' },
      detached: true,
    })
    const r: Run = { child, stdout: '', stderr: '' }
    child.stdout.on('data', (chunk: Buffer) => (r.stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (r.stderr += chunk.toString()))
    try {
      return await use(await listeningUrl(r), r)
    } finally {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM')
      await exitCode(r)
    }
  }
  const BUNDLE = join(ROOT, 'dist', 'start', 'serve-local.js')

  it('bundles the local host with esbuild, starts it in dev mode and answers health; an unchanged tree is not bundled again', async () => {
    await npmStart(async (url, r) => {
      expect((await fetch(`${url}/api/health`)).status).toBe(200)
      expect(r.stderr).toMatch(/\(started in \d+ ms\)/)
    })
    // The second start finds every input older than the bundle, and only loads it.
    const builtAt = statSync(BUNDLE).mtimeMs
    await npmStart(async (url) => {
      expect((await fetch(`${url}/api/health`)).status).toBe(200)
    })
    expect(statSync(BUNDLE).mtimeMs).toBe(builtAt)
  }, 90_000)
})

describe('npm start with a tenant', () => {
  it('suggests replay with a token of the tenant (no development issuer to ask)', async () => {
    const r = run('src/http/serve-local.ts', [], {
      PORT: '0',
      ENTRA_TENANT_ID: '11111111-2222-4333-8444-555555555555',
      ENTRA_AUDIENCE: '11111111-2222-4333-8444-555555555556',
    })
    try {
      while (!/ {2}try: .*\n/.test(r.stderr)) {
        if (r.child.exitCode !== null) throw new Error(`server exited: ${r.stderr}`)
        await once(r.child.stderr ?? r.child, 'data')
      }
      expect(r.stderr).toMatch(/ {2}try: npm run replay -- \S+ --url http:\S+ --token </)
    } finally {
      r.child.kill('SIGTERM')
      await exitCode(r)
    }
  }, 60_000)
})

describe('dev mode and replay', () => {
  let server: Run
  let url: string
  beforeAll(async () => {
    server = run('src/http/serve-local.ts', [], { PORT: '0' })
    url = await listeningUrl(server)
  })
  afterAll(async () => {
    server.child.kill('SIGTERM')
    await exitCode(server)
  })

  it('says which port is taken and how to choose another, without a stack trace', async () => {
    const port = new URL(url).port
    const second = run('src/http/serve-local.ts', [], { PORT: port })
    expect(await exitCode(second)).toBe(1)
    expect(second.stderr).toContain(`port ${port} is already in use`)
    expect(second.stderr).toContain('PORT=7072 npm start')
    expect(second.stderr).not.toMatch(/\n\s+at /)
  })

  it('says how long start took', () => {
    expect(server.stderr).toMatch(/listening on http:\/\/\S+ \(started in \d+ ms\)/)
  })

  it('says loudly that it runs in dev mode, with the example configuration', () => {
    expect(server.stderr).toContain('DEV MODE: ENTRA_TENANT_ID is not set')
    expect(server.stderr).toContain('EXTENSION_CONFIG is not set: using the example configuration')
  })

  it('replays a recorded event and checks the answer against the contract', async () => {
    const r = run('tools/cli/replay.ts', [fixturePath('token-issuance-start'), '--url', url], {})
    expect(await exitCode(r)).toBe(0)
    expect(r.stdout).toMatch(/HTTP 200 in \d+\.\d ms/)
    expect(r.stdout).toContain('"microsoft.graph.tokenIssuanceStart.provideClaimsForToken"')
    expect(r.stdout).toContain('✓ the answer matches the contract')
  })

  it('exits 1 and explains when an event is not answered with 200', async () => {
    const r = run('tools/cli/replay.ts', [fixturePath('otp-send'), '--url', url], {})
    expect(await exitCode(r)).toBe(1)
    expect(r.stdout).toContain('HTTP 503')
    expect(r.stdout).toContain('ERR_NOT_CONFIGURED')
  })

  it('answers an unknown option with the usage and exit 2, and names a missing file', async () => {
    const bad = run('tools/cli/replay.ts', ['--nope'], {})
    expect(await exitCode(bad)).toBe(2)
    expect(bad.stderr).toContain("Unknown option '--nope'")
    expect(bad.stderr).toContain('usage: npm run replay --')
    expect(bad.stderr).not.toMatch(/\n\s+at /)
    const missing = run('tools/cli/replay.ts', ['no-such-event.json', '--url', url], {})
    expect(await exitCode(missing)).toBe(1)
    expect(missing.stdout).toContain('no-such-event.json: file not found')
    // Read before anything is sent: with no endpoint listening, the file is still the problem named.
    const offline = run(
      'tools/cli/replay.ts',
      ['no-such-event.json', '--url', 'http://127.0.0.1:9'],
      {},
    )
    expect(await exitCode(offline)).toBe(1)
    expect(offline.stdout).toContain('no-such-event.json: file not found')
    expect(offline.stderr).not.toContain('cannot reach')
  })

  it('refuses to guess a token for an endpoint that is not in dev mode', async () => {
    const r = run(
      'tools/cli/replay.ts',
      [fixturePath('token-issuance-start'), '--url', 'http://127.0.0.1:9'],
      {},
    )
    expect(await exitCode(r)).toBe(1)
    expect(r.stderr).toContain('cannot reach http://127.0.0.1:9')
  })
})
