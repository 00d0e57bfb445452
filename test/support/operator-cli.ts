// An operator CLI (tools/cli/<name>.ts) run as `npm run <name>` runs it: a child process with tsx,
// from the repository's root, with the environment given and nothing else of the test runner's.
// `signedIn()` is the environment of an operator signed in as the token endpoint stand-in's
// client (a client secret, the way a pipeline signs in), talking to a Graph stand-in.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tlsEnv } from './test-ca.js'
import type { TokenEndpointStandIn } from './token-endpoint.js'

const ROOT = new URL('../../', import.meta.url).pathname

export type OperatorCli = 'register' | 'doctor' | 'insights' | 'import-users' | 'replay'

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Signed in with the stand-in's client secret; Graph at `graphOrigin`; the test CA trusted. */
export function signedIn(
  tokens: Pick<TokenEndpointStandIn, 'tenantId' | 'clientId' | 'clientSecret' | 'authorityHost'>,
  graphOrigin: string,
): Record<string, string> {
  return {
    ...tlsEnv(),
    AZURE_TENANT_ID: tokens.tenantId,
    AZURE_CLIENT_ID: tokens.clientId,
    AZURE_CLIENT_SECRET: tokens.clientSecret,
    AZURE_AUTHORITY_HOST: tokens.authorityHost,
    GRAPH_BASE_URL: graphOrigin,
  }
}

/** Runs the CLI to its end. PATH and HOME are the runner's unless `env` sets them. */
export async function runCli(
  cli: OperatorCli,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', `tools/cli/${cli}.ts`, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const [code] = (await once(child, 'close')) as [number | null]
  return { code, stdout, stderr }
}

export interface TerminalRun extends CliRun {
  /** What the pseudo-terminal showed: stderr, the questions asked and the answers echoed. */
  readonly terminal: string
}

/**
 * Runs the CLI with stdin and stderr on a pseudo-terminal (util-linux `script`) and stdout
 * redirected to a file, as `npm run <cli> … | tee log` at a keyboard does; each time a question
 * ending in `[y/N] ` shows, the next of `answers` is typed. `stdout` is the file's content,
 * `stderr` is empty (it went to the terminal).
 */
export async function runCliAtTerminal(
  cli: OperatorCli,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  answers: readonly string[],
): Promise<TerminalRun> {
  const dir = mkdtempSync(join(tmpdir(), 'operator-cli-'))
  const out = join(dir, 'stdout')
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`
  const command = [process.execPath, '--import', 'tsx', `tools/cli/${cli}.ts`, ...args]
    .map(quote)
    .join(' ')
  const child = spawn(
    'script',
    ['-q', '-e', '-c', `exec ${command} > ${quote(out)}`, '/dev/null'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TERM: 'dumb',
        SHELL: '/bin/sh',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  let terminal = ''
  let asked = 0
  const onData = (chunk: Buffer) => {
    terminal += chunk.toString()
    const questions = terminal.split('[y/N] ').length - 1
    while (asked < questions) {
      child.stdin.write(`${answers[asked] ?? ''}\r`)
      asked++
    }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const [code] = (await once(child, 'close')) as [number | null]
  const stdout = readFileSync(out, 'utf8')
  rmSync(dir, { recursive: true, force: true })
  return { code, stdout, stderr: '', terminal }
}
