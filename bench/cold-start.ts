// Cold start of the Functions package, as Entra's first call after a scale-out meets it: from the
// worker process's start to the first authenticated 200 on OnTokenIssuanceStart. Two builds: the
// tsc output (the root package.json, main dist/functions/*.js, node_modules resolved file by file)
// and the bundle azd deploys (dist/deploy). Each is loaded by the stand-in worker of test/package
// (the real @azure/functions library, its stream-mode proxy included); the caller's token comes
// from the loopback OpenID issuer the tests use, so the endpoint fetches its metadata and keys as
// in production. Spawns alternate between the builds, so that drift in the machine's load hits both.
// `--baseline <dir>` adds a saved package (a copy of dist/deploy from before a change) to the
// rotation: before and after, measured in the same run. Two floors: `node -e 0`, and the same
// stand-in worker loading a bundle of @azure/functions alone with one handler that reads the body
// and answers 200 (no token check, no configuration): what our own code adds is the difference.
import { build } from 'esbuild'
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { writeFunctionsHost } from '../test/package/functions-host.js'
import { REQUIRE_SHIM } from '../tools/build/functions-package.js'
import { EXTENSION_APP_ID, startTestIssuer } from '../test/support/oidc-issuer.js'
import { startChild } from './child.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const EVENT_PATH = '/api/onTokenIssuanceStart'
const TIMEOUT_MS = 30_000

export const BUILDS = {
  tsc: { label: 'tsc output (dist/functions/*.js)', dir: ROOT },
  bundle: { label: 'bundle (dist/deploy)', dir: join(ROOT, 'dist', 'deploy') },
} as const
export type Build = keyof typeof BUILDS

export interface ColdStarts {
  readonly builds: Record<Build, number[]>
  /** The package in `baseline`, when one was given. */
  readonly baseline?: { readonly dir: string; readonly times: number[] }
  /** `node -e 0`, spawn to exit: what any Node process costs on this machine now. */
  readonly node: number[]
  /** The stand-in worker with @azure/functions alone: what any Functions package costs here. */
  readonly framework: number[]
}

const FRAMEWORK_ONLY = `import { app } from '@azure/functions'
app.setup({ enableHttpStream: true })
app.http('onTokenIssuanceStart', {
  route: 'onTokenIssuanceStart',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: async (request) => ({ status: 200, jsonBody: { bytes: (await request.text()).length } }),
})
`

/** A package of @azure/functions and one trivial handler, bundled as dist/deploy is. */
async function writeFrameworkOnly(folder: string): Promise<string> {
  const dir = join(folder, 'framework-only')
  await build({
    stdin: { contents: FRAMEWORK_ONLY, resolveDir: ROOT, sourcefile: 'framework-only.js' },
    outfile: join(dir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['@azure/functions-core'],
    banner: { js: REQUIRE_SHIM },
    logLevel: 'warning',
  })
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', main: 'main.js' }))
  return dir
}

export async function measureColdStarts(
  spawns: number,
  fixture: string,
  baseline?: string,
): Promise<ColdStarts> {
  const folder = mkdtempSync(join(tmpdir(), 'entra-bench-host-'))
  const issuer = await startTestIssuer()
  try {
    const { nodePath, runner } = writeFunctionsHost(folder)
    const frameworkOnly = await writeFrameworkOnly(folder)
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      NODE_PATH: nodePath,
      PORT: '0',
      LOG_LEVEL: 'warn',
      ENTRA_TENANT_ID: issuer.tenantId,
      ENTRA_AUDIENCE: EXTENSION_APP_ID,
      ENTRA_ISSUER: issuer.issuer,
    }
    const times: Record<Build, number[]> = { tsc: [], bundle: [] }
    const baselineTimes: number[] = []
    const node: number[] = []
    const framework: number[] = []
    const variant = (name: string, dir: string, times: number[]) => ({ name, dir, times })
    const floor = variant('framework-only', frameworkOnly, framework)
    const tsc = variant('tsc', BUILDS.tsc.dir, times.tsc)
    const bundles = [
      variant('bundle', BUILDS.bundle.dir, times.bundle),
      ...(baseline === undefined ? [] : [variant('baseline', baseline, baselineTimes)]),
    ]
    for (let i = 0; i < spawns; i++) {
      const started = performance.now()
      await promisify(execFile)(process.execPath, ['-e', '0'])
      node.push(performance.now() - started)
      // The floor and the tsc output first, as always; the bundle and the baseline swap places
      // every other round, so that each follows the tsc output's heavier start equally often.
      for (const { name, dir, times: into } of [
        floor,
        tsc,
        ...(i % 2 === 0 ? bundles : [...bundles].reverse()),
      ]) {
        const token = await issuer.mint()
        const child = await startChild({
          name: `cold-${name}`,
          args: [runner, dir],
          cwd: dir,
          env,
          timeoutMs: TIMEOUT_MS,
        })
        try {
          await firstOk(child.url, token, fixture)
          into.push(performance.now() - child.spawnedAt)
        } finally {
          await child.stop()
        }
      }
    }
    return {
      builds: times,
      node,
      framework,
      ...(baseline === undefined ? {} : { baseline: { dir: baseline, times: baselineTimes } }),
    }
  } finally {
    await issuer.close()
    rmSync(folder, { recursive: true, force: true })
  }
}

/** POSTs the fixture until it answers 200, every 5 ms, for at most TIMEOUT_MS. */
async function firstOk(url: string, token: string, fixture: string): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS
  let last = ''
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url + EVENT_PATH, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: fixture,
        signal: AbortSignal.timeout(5_000),
      })
      last = `${res.status} ${(await res.text()).slice(0, 200)}`
      if (res.status === 200) return
    } catch (err) {
      last = err instanceof Error ? err.message : String(err)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`no 200 within ${TIMEOUT_MS} ms (last: ${last})`)
}
