// An operator CLI (tools/cli/<name>.ts) run as `npm run <name>` runs it: a child process with tsx,
// from the repository's root, with the environment given and nothing else of the test runner's.
// `signedIn()` is the environment of an operator signed in as the token endpoint stand-in's
// client (a client secret, the way a pipeline signs in), talking to a Graph stand-in.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
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
