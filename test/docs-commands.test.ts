// Every shell block of the docs marked ```sh runnable is run here, as a reader would run it:
//   - a `[VAR=value ...] npm start` line starts the local host (in dev mode, with those variables),
//     and the block's other lines run against it once it answers; a block without that line gets
//     a plain dev-mode host;
//   - every other line (`\` continues a line) runs in bash from the repository root and must
//     exit 0; a trailing `# prints: TEXT` comment means its output must contain TEXT.
// The host listens on a free port instead of 7071 (a developer's own `npm start` may hold it):
// `127.0.0.1:7071` in a command is rewritten to it, and `npm run replay` gets `--url`.
// `npm start` itself (its esbuild step and banner) is tested in test/e2e/serve-local.test.ts; here
// the same entry runs through tsx, so that parallel tests do not share dist/start.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../', import.meta.url).pathname
const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn' }

interface Command {
  readonly text: string
  readonly prints: string | undefined
}

interface Block {
  readonly file: string
  readonly line: number
  readonly startEnv: Record<string, string>
  readonly commands: readonly Command[]
}

function runnableBlocks(file: string): Block[] {
  const lines = readFileSync(`${ROOT}${file}`, 'utf8').split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```sh runnable') continue
    const start = i + 1
    const body: string[] = []
    for (i = start; i < lines.length && lines[i]?.trim() !== '```'; i++) body.push(lines[i] ?? '')
    const joined = body.join('\n').replaceAll('\\\n', ' ').split('\n')
    const commands: Command[] = []
    let startEnv: Record<string, string> = {}
    for (const raw of joined) {
      const prints = /#\s*prints:\s*(.+)$/.exec(raw)?.[1]?.trim()
      const text = raw.replace(/(^|\s)#.*$/, '').trim()
      if (text === '') continue
      const server = /^((?:[A-Z_][A-Z0-9_]*=\S+\s+)*)npm start$/.exec(text)
      if (server !== null) {
        startEnv = Object.fromEntries(
          (server[1] ?? '')
            .trim()
            .split(/\s+/)
            .filter(Boolean)
            .map((pair) => pair.split('=', 2) as [string, string]),
        )
        continue
      }
      commands.push({ text, prints })
    }
    blocks.push({ file, line: start, startEnv, commands })
  }
  return blocks
}

const files = [
  'README.md',
  ...readdirSync(`${ROOT}docs`)
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
]
const blocks = files.flatMap(runnableBlocks)

async function startHost(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/http/serve-local.ts'], {
    cwd: ROOT,
    env: { ...BASE_ENV, ...env, PORT: '0' },
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  for (;;) {
    const url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1]
    if (url !== undefined) return { child, url }
    if (child.exitCode !== null) throw new Error(`npm start exited: ${stderr}`)
    await once(child.stderr, 'data')
  }
}

async function bash(command: string): Promise<{ code: number | null; output: string }> {
  const child = spawn('bash', ['-c', command], { cwd: ROOT, env: BASE_ENV })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const [code] = (await once(child, 'close')) as [number | null]
  return { code, output }
}

describe('the runnable commands of the docs', () => {
  it('finds the marked blocks', () => {
    expect(blocks.map((b) => b.file)).toContain('README.md')
  })

  it.each(blocks.map((block) => [`${block.file}:${block.line}`, block] as const))(
    '%s runs as written',
    async (_, block) => {
      const host = await startHost(block.startEnv)
      try {
        const port = new URL(host.url).port
        for (const { text, prints } of block.commands) {
          let command = text.replaceAll('127.0.0.1:7071', `127.0.0.1:${port}`)
          if (/^npm run replay -- /.test(command) && !command.includes('--url'))
            command += ` --url ${host.url}`
          const { code, output } = await bash(command)
          expect(code, `${text}\n${output}`).toBe(0)
          if (prints !== undefined) expect(output, text).toContain(prints)
        }
      } finally {
        host.child.kill('SIGTERM')
        if (host.child.exitCode === null) await once(host.child, 'exit')
      }
    },
    120_000,
  )
})
