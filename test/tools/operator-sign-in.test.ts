// The operator CLIs with nobody signed in: no AZURE_* variables, no az / azd / PowerShell on the
// PATH, no managed identity. Each must say what every credential of the chain answered and how to
// sign in, and exit 2 (not the first line of an aggregate error, exit 1). (No IDENTITY_ENDPOINT:
// the managed identity then probes IMDS, which answers nothing off Azure.)
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, type OperatorCli } from '../support/operator-cli.js'

const TENANT = '11111111-2222-3333-4444-555555555555'

function run(cli: OperatorCli, args: readonly string[], env: Record<string, string> = {}) {
  // Only the node binary's folder on the PATH: neither az nor azd nor pwsh can be found.
  return runCli(cli, args, {
    PATH: join(process.execPath, '..'),
    HOME: mkdtempSync(join(tmpdir(), 'no-login-')),
    ...env,
  })
}

describe('operator CLIs without a sign-in', () => {
  it.each([
    ['register', ['--url', 'https://auth.contoso.example', '--app', TENANT, '--dry-run'], {}],
    [
      'doctor',
      ['--url', 'https://auth.contoso.example', '--app', TENANT],
      { ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: TENANT },
    ],
    ['insights', ['--since', '1d'], {}],
  ] as const)(
    '%s lists each credential and how to sign in, and exits 2',
    async (script, args, env) => {
      const { code, stderr } = await run(script, [...args], { ...env, AZURE_TENANT_ID: TENANT })
      expect(code).toBe(2)
      expect(stderr).toContain('not signed in')
      expect(stderr).toMatch(/- EnvironmentCredential is unavailable/)
      expect(stderr).toMatch(/- Azure CLI could not be found/)
      expect(stderr).toContain(`az login --tenant ${TENANT} --allow-no-subscriptions`)
      expect(stderr).not.toContain('ChainedTokenCredential authentication failed')
    },
    60_000,
  )
})
