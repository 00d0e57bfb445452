// What ships: the Functions package azd deploys (dist/deploy: one bundle, azure.yaml `dist`), the
// project as `func azure functionapp publish` packs it from the root (.funcignore applied), and the
// library (`npm pack`). All are built first (`npm run build`, which empties dist/ so that nothing
// built before lingers). None may carry the operator tools (tools/), tests, or TypeScript sources.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { ESLint } from 'eslint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EVENT_ROUTE_NAMES } from '../../src/events/routes.js'
import { buildFunctionsPackage } from '../../tools/build/functions-package.js'
import { fixture } from '../support/fixtures.js'
import { EXTENSION_APP_ID, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import { writeFunctionsHost, type RegisteredFunction } from './functions-host.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/**
 * A .funcignore line as a test on a path relative to the root ('/'-separated). The file uses
 * gitignore syntax; this understands the part of it that the file uses (anchored or not, `*`,
 * `?`, `**`) and refuses the rest, so that a new kind of line cannot be misread here.
 */
function ignoreRule(line: string): (path: string) => boolean {
  if (line.startsWith('!') || line.includes('[') || line.includes('\\'))
    throw new Error(`.funcignore: this test does not understand the line ${line}`)
  const trimmed = line.replace(/\/$/, '')
  const anchored = trimmed.slice(0, -1).includes('/')
  const glob = trimmed.replace(/^\//, '')
  const body = glob
    .split(/(\*\*|\*|\?)/)
    .map((part) =>
      part === '**'
        ? '.*'
        : part === '*'
          ? '[^/]*'
          : part === '?'
            ? '[^/]'
            : part.replace(/[.+^${}()|]/g, '\\$&'),
    )
    .join('')
  const pattern = new RegExp(`${anchored ? '^' : '(?:^|/)'}${body}(?:/|$)`)
  return (path) => pattern.test(path)
}

/** Every file under `top`, '/'-separated, without node_modules (installed at deploy time). */
function projectFiles(dir = root, top = root): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const name = relative(top, path).split(sep).join('/')
    if (name === 'node_modules') continue
    if (entry.isDirectory()) files.push(...projectFiles(path, top))
    else files.push(name)
  }
  return files
}

/** What must never ship, whatever the package. */
function forbidden(files: readonly string[]): string[] {
  return files.filter(
    (f) =>
      /^(tools|src|functions|bench)\//.test(f) ||
      // The recorded events are data the library's testing helpers read; no other test file.
      (/^test\//.test(f) && !/^test\/fixtures\/events\/[^/]+\.(json|md)$/.test(f)) ||
      /^dist\/(tools|test|bench)\//.test(f) ||
      /^dist\/src\/(cli|registration|observe)\//.test(f) ||
      (/\.(ts|mts|cts|tsx)$/.test(f) && !/\.d\.ts$/.test(f)) ||
      /\.test\.[jt]s$/.test(f),
  )
}

beforeAll(async () => {
  await run(npm, ['run', 'build', '--silent'], { cwd: root, shell: process.platform === 'win32' })
}, 180_000)

/** A scratch folder, removed at the end of the run. */
function scratch(prefix: string): string {
  const parent = process.env.TEST_TMP_DIR ?? tmpdir()
  mkdirSync(parent, { recursive: true })
  return mkdtempSync(join(parent, prefix))
}

const deployDir = join(root, 'dist', 'deploy')

describe('the Functions package azd deploys (dist/deploy, one bundle)', () => {
  it('holds the bundle and its chunks, package.json, host.json and config/, nothing else', () => {
    const files = projectFiles(deployDir, deployDir)
    expect(forbidden(files)).toEqual([])
    expect(
      files.filter(
        (f) =>
          !/^(main\.js|package\.json|host\.json)$/.test(f) &&
          !/^chunks\/[\w.-]+\.js$/.test(f) &&
          !/^config\/[\w./-]+\.(json|jsonl)$/.test(f),
      ),
    ).toEqual([])
    expect(files).toEqual(
      expect.arrayContaining(['main.js', 'config/extension-config.example.json']),
    )
    // No source maps unless asked for (`--sourcemap`), no docs, no installed modules.
    expect(files.filter((f) => /\.map$|\.md$|(^|\/)node_modules\//.test(f))).toEqual([])
    expect(readFileSync(join(deployDir, 'host.json'), 'utf8')).toBe(
      readFileSync(join(root, 'host.json'), 'utf8'),
    )
  })

  it('has a package.json whose main is the bundle, with nothing to install', () => {
    const pkg = JSON.parse(readFileSync(join(deployDir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >
    expect(pkg).toMatchObject({ type: 'module', main: 'main.js', private: true })
    expect(Object.keys(pkg).filter((key) => /dependencies$/i.test(key))).toEqual([])
    expect(Object.keys(pkg).filter((key) => key === 'scripts')).toEqual([])
  })

  it('bundles production dependencies only, and writes source maps when asked', async () => {
    const out = scratch('functions-package-')
    const { packages, inputs } = await buildFunctionsPackage({ outDir: out, sourcemap: true })
    // What esbuild read into the bundle (its metafile's inputs): the endpoint's code and its
    // dependencies, none of the operator tools or the tests.
    expect(inputs).toEqual(expect.arrayContaining(['functions/auth-events.ts']))
    expect(inputs.filter((input) => /^(tools|test)\//.test(input))).toEqual([])
    const { stdout } = await run(npm, ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: root,
      shell: process.platform === 'win32',
      maxBuffer: 16 * 1024 * 1024,
    })
    const production = new Set(
      stdout
        .split(/\r?\n/)
        .flatMap((path) => /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)$/.exec(path)?.[1] ?? [])
        .map((name) => name.replace('\\', '/')),
    )
    expect(packages).toEqual(expect.arrayContaining(['@azure/functions', 'jose', 'zod']))
    expect(packages.filter((name) => !production.has(name))).toEqual([])
    const files = projectFiles(out, out)
    expect(files).toEqual(expect.arrayContaining(['main.js', 'main.js.map']))
  }, 120_000)
})

describe('the import rules that keep the operator tools out of the Function App', () => {
  it('eslint refuses an import of tools/ from functions/ and from src/', async () => {
    const eslint = new ESLint({ cwd: root })
    for (const file of ['functions/auth-events.ts', 'src/config.ts']) {
      const [result] = await eslint.lintText("import '../tools/graph/client.js'\n", {
        filePath: join(root, file),
      })
      expect(
        result?.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message),
        file,
      ).toEqual([expect.stringContaining('must not import tools/')])
    }
  }, 60_000)
})

describe('the bundled entry, loaded as the Functions worker loads it', () => {
  let issuer: TestIssuer
  beforeAll(async () => {
    issuer = await startTestIssuer()
  })
  afterAll(() => issuer.close())

  const host = () => writeFunctionsHost(scratch('functions-host-'))

  it('registers every event route and health, anonymous', async () => {
    const { nodePath, runner } = host()
    const { stdout } = await run(process.execPath, [runner, deployDir, '--list'], {
      cwd: deployDir,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: nodePath },
    })
    const registered = JSON.parse(stdout) as RegisteredFunction[]
    const routes = registered.map((fn) => {
      const trigger = Object.values(fn.bindings).find((b) => b.type === 'httpTrigger')
      return { name: fn.name, route: trigger?.route, authLevel: trigger?.authLevel }
    })
    expect(routes).toEqual(
      [...EVENT_ROUTE_NAMES, 'health'].map((route) => ({
        name: route,
        route,
        authLevel: 'anonymous',
      })),
    )
  })

  it('loads every chunk (the optional SDKs, read on first use) without error', async () => {
    const { nodePath } = host()
    const chunks = readdirSync(join(deployDir, 'chunks')).filter((f) => f.endsWith('.js'))
    expect(chunks.length).toBeGreaterThan(0)
    const script = `for (const f of ${JSON.stringify(chunks)}) await import('./chunks/' + f); process.stdout.write('loaded')`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: deployDir,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: nodePath },
    })
    expect(stdout).toBe('loaded')
  })

  it('answers an authenticated OnTokenIssuanceStart with 200 through the library', async () => {
    const { nodePath, runner } = host()
    const child = spawn(process.execPath, [runner, deployDir], {
      cwd: deployDir,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: nodePath,
        PORT: '0',
        ENTRA_TENANT_ID: issuer.tenantId,
        ENTRA_AUDIENCE: EXTENSION_APP_ID,
        ENTRA_ISSUER: issuer.issuer,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    try {
      let stderr = ''
      child.stderr.setEncoding('utf8')
      const exited = once(child, 'exit').then(([code]) => {
        throw new Error(`the runner exited (${String(code)}): ${stderr}`)
      })
      const listening = new Promise<string>((resolve) => {
        child.stderr.on('data', (chunk: string) => {
          stderr += chunk
          const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1]
          if (url !== undefined) resolve(url)
        })
      })
      const url = await Promise.race([listening, exited])
      const res = await fetch(`${url}/api/onTokenIssuanceStart`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await issuer.mint()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(fixture('token-issuance-start')),
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({
        data: { actions: [{ claims: { apiVersion: '1.0.0' } }] },
      })
      const health = await fetch(`${url}/api/health`)
      expect(health.status).toBe(200)
    } finally {
      child.kill()
    }
  })
})

describe('the project published from the root (.funcignore)', () => {
  it('holds dist/ and what the host reads, and no tools, tests or TypeScript sources', () => {
    const rules = readFileSync(join(root, '.funcignore'), 'utf8')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map(ignoreRule)
    const shipped = projectFiles().filter((file) => !rules.some((ignored) => ignored(file)))
    expect(forbidden(shipped)).toEqual([])
    expect(shipped).toEqual(
      expect.arrayContaining([
        'host.json',
        'package.json',
        'dist/functions/index.js',
        'dist/src/app.js',
      ]),
    )
    expect(shipped.filter((f) => f.startsWith('dist/tools/'))).toEqual([])
    // The tools are in the repository, and are not built.
    expect(existsSync(join(root, 'tools/cli/register.ts'))).toBe(true)
    expect(existsSync(join(root, 'dist/tools'))).toBe(false)
  })
})

describe('the library (npm pack)', () => {
  it('holds the compiled code, the config and the recorded events only', async () => {
    const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: root,
      shell: process.platform === 'win32',
    })
    const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }]
    const files = pack.files.map((f) => f.path)
    expect(forbidden(files)).toEqual([])
    expect(
      files.filter(
        (f) =>
          !/^dist\/(functions|src)\/.+\.(js|d\.ts|js\.map)$/.test(f) &&
          !/^config\//.test(f) &&
          !/^test\/fixtures\/events\/[^/]+\.(json|md)$/.test(f) &&
          !/^(package\.json|README\.md|LICENSE(\.\w+)?)$/.test(f),
      ),
    ).toEqual([])
    expect(files).toEqual(
      expect.arrayContaining(['dist/functions/index.js', 'dist/src/testing/index.js']),
    )
  })
})
