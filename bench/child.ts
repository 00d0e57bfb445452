// Child servers for the benchmark: spawn one, wait for its "listening on http://..." stderr line,
// keep a bounded tail of its output, read its RSS, and stop it (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'

const LISTENING = /listening on (http:\/\/127\.0\.0\.1:\d+)/
const TAIL_LINES = 50

export interface Child {
  readonly name: string
  readonly pid: number
  readonly url: string
  /** performance.now() just before spawn. */
  readonly spawnedAt: number
  /** performance.now() when the URL line appeared on stderr. */
  readonly listeningAt: number
  /** What it wrote on stdout (the endpoint's JSON log) and stderr. */
  readonly stdout: Output
  readonly stderr: Output
  alive(): boolean
  stop(): Promise<void>
}

export interface Output {
  /** The last lines, at most 50. */
  readonly tail: string[]
  /** All lines so far. */
  readonly lines: number
}

export interface SpawnOptions {
  readonly name: string
  readonly args: readonly string[]
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  readonly timeoutMs: number
}

export function startChild(options: SpawnOptions): Promise<Child> {
  const spawnedAt = performance.now()
  const proc = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stdout = collectLines(proc, 'stdout')
  const stderr = collectLines(proc, 'stderr')
  const stop = () => stopProcess(proc)
  const alive = () => proc.exitCode === null && proc.signalCode === null

  return new Promise<Child>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer)
      void stop()
      reject(new Error(`${options.name}: ${why}\n  stderr: ${stderr.tail.join('\n  stderr: ')}`))
    }
    const timer = setTimeout(
      () => fail(`no URL on stderr within ${options.timeoutMs} ms`),
      options.timeoutMs,
    )
    proc.once('error', (err) => fail(`cannot spawn: ${err.message}`))
    proc.once('exit', (code, signal) => fail(`exited before listening (${signal ?? code})`))
    proc.stderr?.on('data', function onData() {
      const url = LISTENING.exec(stderr.tail.join('\n'))?.[1]
      if (url === undefined || proc.pid === undefined) return
      const listeningAt = performance.now()
      clearTimeout(timer)
      proc.stderr?.off('data', onData)
      proc.removeAllListeners('exit')
      const { name } = options
      resolve({ name, pid: proc.pid, url, spawnedAt, listeningAt, stdout, stderr, alive, stop })
    })
  })
}

/** Resident set size in MiB from /proc (Linux only); undefined elsewhere or if unreadable. */
export function rssMiB(pid: number): number | undefined {
  try {
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kib === undefined ? undefined : Number(kib) / 1024
  } catch {
    return undefined
  }
}

function collectLines(proc: ChildProcess, stream: 'stdout' | 'stderr'): Output {
  const output = { tail: [] as string[], lines: 0 }
  let partial = ''
  proc[stream]?.setEncoding('utf8')
  proc[stream]?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    const lines = parts.filter((line) => line.trim() !== '')
    output.lines += lines.length
    output.tail.push(...lines)
    if (output.tail.length > TAIL_LINES) output.tail.splice(0, output.tail.length - TAIL_LINES)
  })
  return output
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000)
  await exited
  clearTimeout(timer)
}

/** A token from a dev-mode endpoint's development issuer (POST /api/dev/token). */
export async function devToken(url: string): Promise<string> {
  const res = await fetch(`${url}/api/dev/token`, {
    method: 'POST',
    signal: AbortSignal.timeout(5_000),
  })
  const body = await res.text()
  if (res.status !== 200) throw new Error(`/api/dev/token answered ${res.status}: ${body}`)
  const { access_token: token } = JSON.parse(body) as { access_token?: unknown }
  if (typeof token !== 'string') throw new Error('/api/dev/token gave no access_token')
  return token
}
