// What ships: the Functions package (the project as `func azure functionapp publish` packs it,
// .funcignore applied) and the library (`npm pack`). Both are built first (`npm run build`, which
// empties dist/ so that nothing compiled before lingers). Neither may carry the operator tools
// (tools/), tests, or TypeScript sources: dist/'s compiled src/ and functions/ are what runs.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'

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

/** Every file under the root, '/'-separated, without node_modules (installed at deploy time). */
function projectFiles(dir = root): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const name = relative(root, path).split(sep).join('/')
    if (name === 'node_modules') continue
    if (entry.isDirectory()) files.push(...projectFiles(path))
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

describe('the deployed Functions package (.funcignore)', () => {
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
