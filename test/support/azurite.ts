// Azurite's Table service (the storage emulator, from node_modules) in a child process on
// 127.0.0.1, in memory, for the Table Storage the OnOtpSend de-duplication uses. It speaks the real
// Table REST API with SharedKey auth for the well-known development account.
//
// Azurite prints the port it was given, not the one it bound, so a free port is found first (and
// the start is retried on the rare race where something else takes it meanwhile). The child is
// killed by stop(), when this process exits, and — through an IPC channel it watches — when this
// process dies without running its exit handlers.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { testTls } from './test-ca.js'

/** Azurite's development account: the documented, public name and key. */
export const AZURITE_ACCOUNT = 'devstoreaccount1'
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

export interface Azurite {
  /** DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=…;TableEndpoint=… */
  readonly connectionString: string
  /** http://127.0.0.1:<port>/devstoreaccount1 */
  readonly tableEndpoint: string
  readonly port: number
  /** How long the start took, in ms (spawn to listening). */
  readonly startupMs: number
  /** Kills the process (and forgets every table: persistence is in memory). */
  stop(): Promise<void>
}

const require = createRequire(import.meta.url)
const TABLE_MAIN = join(dirname(require.resolve('azurite/package.json')), 'dist/src/table/main.js')
const STARTED = /successfully started/

/**
 * Runs in the child before Azurite: when the parent's IPC channel goes, however the parent went,
 * removes the child's own folder (made for it by startAzurite, and its cwd) and exits.
 */
const ORPHAN_GUARD = `data:text/javascript,${encodeURIComponent(
  [
    "import { rmSync } from 'node:fs'",
    "process.on('disconnect', () => {",
    '  try { rmSync(process.cwd(), { recursive: true, force: true }) } catch {}',
    '  process.exit(0)',
    '})',
  ].join('\n'),
)}`

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const running = new Map<ChildProcess, string>() // and its folder
let exitHookInstalled = false
function killOnExit(child: ChildProcess, location: string): void {
  running.set(child, location)
  child.once('exit', () => running.delete(child))
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const [each, folder] of running) {
      each.kill('SIGKILL')
      rmSync(folder, { recursive: true, force: true })
    }
  })
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function launch(
  port: number,
  location: string,
  timeoutMs: number,
  tls: readonly string[],
): Promise<ChildProcess> {
  const args = [
    '--import',
    ORPHAN_GUARD,
    TABLE_MAIN,
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(port),
    '--inMemoryPersistence',
    '--silent',
    '--disableTelemetry',
    ...tls,
  ]
  const child = spawn(process.execPath, args, {
    // Azurite takes no --location with --inMemoryPersistence, and otherwise works in its cwd:
    // a folder of its own, removed by stop(), keeps anything it writes out of the repository.
    cwd: location,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  child.unref()
  child.channel?.unref()
  killOnExit(child, location)
  let output = ''
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Azurite did not start in ${timeoutMs} ms:\n${output}`)),
        timeoutMs,
      )
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8')
        if (STARTED.test(output)) {
          clearTimeout(timer)
          resolve()
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`Azurite exited (${code ?? signal}) before listening:\n${output}`))
      })
      child.once('error', (error) => {
        clearTimeout(timer)
        reject(error)
      })
    })
  } catch (error) {
    child.kill('SIGKILL')
    await exited(child)
    throw error
  }
  // Keep draining the pipes (an unread pipe could fill and stall the child), but do not let
  // them keep this process alive.
  child.stdout?.resume()
  child.stderr?.resume()
  for (const stream of [child.stdout, child.stderr]) {
    const handle = stream as unknown as { unref?: () => void } | null
    handle?.unref?.()
  }
  return child
}

/**
 * Starts Azurite's Table service on 127.0.0.1 (a free port), in memory. With `oauth`, over https
 * (the test CA's certificate) with `--oauth basic`: bearer tokens are accepted besides SharedKey
 * (Azurite checks their issuer, audience and lifetime, not their signature).
 */
export async function startAzurite(
  options: { readonly timeoutMs?: number; readonly oauth?: boolean } = {},
): Promise<Azurite> {
  const started = performance.now()
  const location = mkdtempSync(join(tmpdir(), 'azurite-'))
  const tls: string[] = []
  if (options.oauth === true) {
    const { cert, key } = await testTls()
    writeFileSync(join(location, 'cert.pem'), cert)
    writeFileSync(join(location, 'key.pem'), key)
    tls.push('--cert', join(location, 'cert.pem'), '--key', join(location, 'key.pem'))
    tls.push('--oauth', 'basic')
  }
  let child: ChildProcess | undefined
  let port = 0
  let lastError: unknown
  for (let attempt = 0; attempt < 3 && child === undefined; attempt += 1) {
    port = await freePort()
    try {
      child = await launch(port, location, options.timeoutMs ?? 20_000, tls)
    } catch (error) {
      lastError = error // most likely the port was taken in between: try another
    }
  }
  if (child === undefined) {
    rmSync(location, { recursive: true, force: true })
    throw lastError
  }
  const startupMs = Math.round(performance.now() - started)
  const protocol = options.oauth === true ? 'https' : 'http'
  const tableEndpoint = `${protocol}://127.0.0.1:${port}/${AZURITE_ACCOUNT}`
  const proc = child
  return {
    connectionString: `DefaultEndpointsProtocol=${protocol};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${tableEndpoint};`,
    tableEndpoint,
    port,
    startupMs,
    async stop() {
      proc.ref() // so that this process waits for the exit it is told about
      proc.kill('SIGKILL')
      await exited(proc)
      rmSync(location, { recursive: true, force: true })
    },
  }
}
