// examples/code-handlers from the outside, as a user gets the package: packed (prepack builds
// dist/), the example copied out of the repository (so nothing resolves to the root's
// node_modules) and installed from the tarball, then the example's own `tsc --noEmit` (its type
// checks included, and the TypeScript blocks of docs/api.md and README.md) and its own vitest run. Slow by nature:
// one npm install, from the npm cache.
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLE = join(ROOT, 'examples', 'code-handlers')
const EXAMPLE_TEST_FILES = ['claims', 'otp-mail', 'serve', 'sign-up']

interface Run {
  readonly code: number
  readonly output: string
}

/**
 * Runs a command without the variables npm and vitest set for this run: npm_config_local_prefix
 * and the like would point the inner npm at this repository, and VITEST_* the inner vitest at
 * this worker.
 */
function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(npm_|VITEST|INIT_CWD$|NODE_ENV$|TEST$)/i.test(name),
    ),
  )
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env, maxBuffer: 32 * 1024 * 1024, timeout: 200_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
        resolve({ code, output: `${stdout}\n${stderr}` })
      },
    )
  })
}

/** The end of a command's output, for the failure message. */
const tail = (run: Run) => run.output.trim().split('\n').slice(-40).join('\n')

interface VitestReport {
  readonly success: boolean
  readonly numPassedTests: number
  readonly numFailedTests: number
  readonly testResults: readonly { readonly name: string; readonly status: string }[]
}

const temps: string[] = []
afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })))
})

describe('examples/code-handlers against the packed package', () => {
  it('installs from the tarball, type-checks and passes its own tests', async () => {
    const packed = await mkdtemp(join(tmpdir(), 'entra-pack-'))
    const project = await mkdtemp(join(tmpdir(), 'entra-example-'))
    temps.push(packed, project)

    const pack = await run('npm', ['pack', '--pack-destination', packed], ROOT)
    expect(pack.code, tail(pack)).toBe(0)
    const tarball = (await readdir(packed)).find((name) => name.endsWith('.tgz'))
    expect(tarball, tail(pack)).toBeDefined()

    // A developer's local install or build of the example stays behind.
    await cp(EXAMPLE, project, {
      recursive: true,
      filter: (source) => !['node_modules', 'dist', 'package-lock.json'].includes(basename(source)),
    })
    // The TypeScript examples of docs/api.md and README.md, type-checked as code in the example's
    // test/ (they import from ../src/ there); not named *.test.ts, so vitest does not run them.
    const tsBlocks = async (...path: string[]) => [
      ...(await readFile(join(ROOT, ...path), 'utf8')).matchAll(/```ts\n([\s\S]*?)```/g),
    ]
    const blocks = await tsBlocks('docs', 'api.md')
    expect(blocks.length).toBeGreaterThanOrEqual(6)
    for (const [i, block] of blocks.entries())
      await writeFile(join(project, 'test', `docs-api-${i + 1}.ts`), block[1] ?? '')
    const readme = await tsBlocks('README.md')
    expect(readme.length).toBeGreaterThanOrEqual(1)
    for (const [i, block] of readme.entries())
      await writeFile(join(project, 'test', `readme-${i + 1}.ts`), block[1] ?? '')

    const manifestFile = join(project, 'package.json')
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      dependencies: Record<string, string>
    }
    expect(manifest.dependencies['entra-auth-extension']).toBe('file:../..')
    manifest.dependencies['entra-auth-extension'] = `file:${join(packed, tarball ?? '')}`
    await writeFile(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`)

    const flags = ['--no-audit', '--no-fund', '--no-update-notifier', '--ignore-scripts']
    let install = await run('npm', ['install', ...flags, '--offline'], project)
    if (install.code !== 0)
      install = await run('npm', ['install', ...flags, '--prefer-offline'], project)
    expect(install.code, tail(install)).toBe(0)

    const tsc = await run(join(project, 'node_modules', '.bin', 'tsc'), ['--noEmit'], project)
    expect(tsc.code, tail(tsc)).toBe(0)

    const reportFile = join(project, 'vitest-report.json')
    const vitest = await run(
      join(project, 'node_modules', '.bin', 'vitest'),
      ['run', '--reporter=json', `--outputFile=${reportFile}`],
      project,
    )
    expect(vitest.code, tail(vitest)).toBe(0)
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as VitestReport
    expect(report.success).toBe(true)
    expect(report.numFailedTests).toBe(0)
    expect(report.numPassedTests).toBeGreaterThanOrEqual(12)
    expect(report.testResults.map((file) => basename(file.name, '.test.ts')).sort()).toEqual(
      EXAMPLE_TEST_FILES,
    )
  }, 240_000)
})
