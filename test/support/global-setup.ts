// vitest globalSetup: runs in vitest's main process before any worker is forked. It makes the test
// CA (test-ca.ts says why here and why this way) and points NODE_EXTRA_CA_CERTS at it, so that
// every worker, and every process a test spawns with process.env, starts trusting the loopback
// HTTPS stand-ins.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestTls, TEST_TLS_FILE } from './test-ca.js'

/** A folder for the run's temporary files (writeExtensionConfig), removed at the end of the run. */
export const TEST_TMP_DIR = 'TEST_TMP_DIR'

export default async function setup(): Promise<() => void> {
  const tls = await createTestTls()
  const dir = mkdtempSync(join(tmpdir(), 'test-ca-'))
  const saved = {
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
    [TEST_TLS_FILE]: process.env[TEST_TLS_FILE],
    [TEST_TMP_DIR]: process.env[TEST_TMP_DIR],
  }

  // Node takes a single file: keep whatever bundle the machine already adds (a proxy's CA, say).
  const existing = saved.NODE_EXTRA_CA_CERTS
  const kept = existing !== undefined && existsSync(existing) ? readFileSync(existing, 'utf8') : ''
  const bundle = join(dir, 'ca-bundle.pem')
  writeFileSync(bundle, `${kept.trimEnd()}\n${tls.caCert}`.trimStart(), { mode: 0o600 })
  const material = join(dir, 'tls.json')
  writeFileSync(material, JSON.stringify(tls), { mode: 0o600 })

  process.env.NODE_EXTRA_CA_CERTS = bundle
  process.env[TEST_TLS_FILE] = material
  // Workers are ended without an exit event: the run's temporary files go under one folder.
  const scratch = join(dir, 'tmp')
  process.env[TEST_TMP_DIR] = scratch

  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    rmSync(dir, { recursive: true, force: true })
  }
}
