// OnPasswordSubmit's decryption keys through the real local host: a PFX file (node-forge), a PEM
// with its certificate, two keys in a rotation with the one the JWE header names tried first, and
// a Key Vault certificate read at start with the managed identity from a loopback HTTPS stand-in
// speaking the secrets REST API and its 401 challenge. Keys and certificates are made here.
import bcrypt from 'bcryptjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config.js'
import { keyFromPem, keysFor } from '../../src/passwords/decryption-keys.js'
import { startTestEndpoint, type TestEndpoint } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startKeyVault, VAULT_RESOURCE, type KeyVaultStandIn } from '../support/key-vault.js'
import { startManagedIdentity, type ManagedIdentityStandIn } from '../support/managed-identity.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'
import {
  makeCertifiedKey,
  writeHashesFile,
  writePfx,
  type CertifiedKey,
  type PasswordKey,
} from '../support/password.js'

const USER = { username: 'avery@example.org', password: 'Strong-Pass-1' }

let issuer: TestIssuer
let hashes: string
let current: CertifiedKey
let next: CertifiedKey
const started: TestEndpoint[] = []

beforeAll(async () => {
  issuer = await startTestIssuer()
  hashes = writeHashesFile([{ username: USER.username, hash: bcrypt.hashSync(USER.password, 4) }])
  current = makeCertifiedKey()
  next = makeCertifiedKey()
}, 30_000)
afterAll(async () => {
  await Promise.all(started.map((endpoint) => endpoint.close()))
  await issuer?.close()
})

async function endpointWith(env: Record<string, string>) {
  const endpoint = await startTestEndpoint(issuer, { PASSWORD_HASHES_FILE: hashes, ...env })
  started.push(endpoint)
  return endpoint
}

async function submit(endpoint: TestEndpoint, key: PasswordKey, options = {}) {
  const event = fixture('password-submit')
  event.data.encryptedPasswordContext = await key.encrypt(USER, options)
  return endpoint.post('onPasswordSubmit', event)
}

const actionOf = (json: unknown) =>
  (json as { data: { actions: [{ '@odata.type': string }] } }).data.actions[0]['@odata.type']

describe('key files', () => {
  it('reads a PFX with PASSWORD_DECRYPTION_KEY_PASSPHRASE, and a PEM with its certificate', async () => {
    const pfx = await endpointWith({
      PASSWORD_DECRYPTION_KEY_PATH: writePfx(current, 'zyx-pfx-pass'),
      PASSWORD_DECRYPTION_KEY_PASSPHRASE: 'zyx-pfx-pass',
    })
    expect(actionOf((await submit(pfx, current)).json)).toBe(
      'microsoft.graph.passwordSubmit.MigratePassword',
    )
    const pem = await endpointWith({ PASSWORD_DECRYPTION_KEY_PATH: current.path })
    expect((await submit(pem, current)).status).toBe(200)
  })

  it('refuses a PFX with a wrong passphrase at start, naming the variables', async () => {
    const err: unknown = await endpointWith({
      PASSWORD_DECRYPTION_KEY_PATH: writePfx(current, 'zyx-pfx-pass'),
      PASSWORD_DECRYPTION_KEY_PASSPHRASE: 'wrong',
    }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).problems).toEqual([
      'PASSWORD_DECRYPTION_KEY_PATH: is neither a PEM private key nor a readable PFX (or PASSWORD_DECRYPTION_KEY_PASSPHRASE is wrong)',
    ])
    expect((err as ConfigError).message).not.toContain('zyx-pfx-pass')
  })

  it('tries first the key whose thumbprint the JWE header names (x5t or kid)', async () => {
    const keys = [keyFromPem(current.pem, undefined), keyFromPem(next.pem, undefined)]
    const [first, second] = keys
    const jwe = await next.encrypt(USER, { x5t: next.x5t })
    expect(keysFor(jwe, keys)).toEqual([second, first])
    const byKid = await next.encrypt(USER, { kid: second?.thumbprint ?? '' })
    expect(keysFor(byKid, keys)).toEqual([second, first])
    expect(keysFor(await current.encrypt(USER, { x5t: current.x5t }), keys)).toEqual(keys)
    expect(keysFor(await next.encrypt(USER), keys)).toEqual(keys) // no name: in turn

    const rotating = await endpointWith({
      PASSWORD_DECRYPTION_KEY_PATH: `${current.path},${writePfx(next, '')}`,
    })
    for (const [key, x5t] of [
      [current, current.x5t],
      [next, next.x5t],
      [next, current.x5t], // a header naming the other key still decrypts, second try
    ] as const) {
      const res = await submit(rotating, key, { x5t })
      expect(res.status).toBe(200)
    }
  })
})

describe('Key Vault (PASSWORD_DECRYPTION_KEY_VAULT_URL)', () => {
  let mi: ManagedIdentityStandIn
  let vault: KeyVaultStandIn
  let restore: () => void

  beforeAll(async () => {
    mi = await startManagedIdentity()
    restore = mi.useEnvironment()
    vault = await startKeyVault({ tenantId: issuer.tenantId, accepted: () => mi.issued })
    vault.secrets.set('password-pem', { value: current.pem, contentType: 'application/x-pem-file' })
    vault.secrets.set('password-pfx', {
      value: next.pfx('').toString('base64'),
      contentType: 'application/x-pkcs12',
    })
  })
  afterAll(async () => {
    restore?.()
    await vault?.close()
    await mi?.close()
  })

  it('reads the certificates once at start with the managed identity, after the challenge', async () => {
    const endpoint = await endpointWith({
      PASSWORD_DECRYPTION_KEY_VAULT_URL: vault.url,
      PASSWORD_DECRYPTION_CERT_NAME: 'password-pem,password-pfx',
    })
    expect((await fetch(`${endpoint.url}/api/health`)).status).toBe(200)
    for (const key of [current, next]) expect((await submit(endpoint, key)).status).toBe(200)
    // The first request carried no token and got the challenge; the token was for the vault.
    expect(vault.requests[0]?.bearer).toBeUndefined()
    expect(vault.requests.filter((r) => r.bearer !== undefined)).toHaveLength(2)
    expect(mi.requests.map((r) => r.query.get('resource'))).toContain(VAULT_RESOURCE)
    const reads = vault.requests.length
    await submit(endpoint, current)
    expect(vault.requests.length).toBe(reads) // cached: no read per request
    const loaded = endpoint.logs.find((line) => line.event === 'password_key_loaded')
    expect(loaded?.fields).toMatchObject({ source: 'keyVault', keys: 2 })
  })

  it('keeps health at 503 and the route at 503 ERR_NOT_CONFIGURED while the vault fails', async () => {
    vault.mode = { kind: 'fail', status: 503 }
    try {
      const endpoint = await endpointWith({
        PASSWORD_DECRYPTION_KEY_VAULT_URL: vault.url,
        PASSWORD_DECRYPTION_CERT_NAME: 'password-pem',
      })
      expect((await fetch(`${endpoint.url}/api/health`)).status).toBe(503)
      const res = await submit(endpoint, current)
      expect(res.status).toBe(503)
      expect((res.json as { error: { code: string } }).error.code).toBe('ERR_NOT_CONFIGURED')
      const failed = endpoint.logs.find((line) => line.event === 'password_key_failed')
      expect(failed?.fields).toMatchObject({ source: 'keyVault', status: 503 })
    } finally {
      vault.mode = { kind: 'up' }
    }
  })

  it('refuses a vault URL without a certificate name, or with a key path, at start', async () => {
    for (const [env, problem] of [
      [
        { PASSWORD_DECRYPTION_KEY_VAULT_URL: vault.url },
        'PASSWORD_DECRYPTION_CERT_NAME: is required with PASSWORD_DECRYPTION_KEY_VAULT_URL',
      ],
      [
        {
          PASSWORD_DECRYPTION_KEY_VAULT_URL: vault.url,
          PASSWORD_DECRYPTION_CERT_NAME: 'password-pem',
          PASSWORD_DECRYPTION_KEY_PATH: current.path,
        },
        'PASSWORD_DECRYPTION_KEY_VAULT_URL: set it or PASSWORD_DECRYPTION_KEY_PATH, not both',
      ],
    ] as const) {
      const err: unknown = await endpointWith(env).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect((err as ConfigError).problems).toEqual([problem])
    }
  })
})
