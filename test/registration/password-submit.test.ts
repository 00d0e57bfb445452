// OnPasswordSubmit's registration (issue 17, operator side) as an operator runs it: register
// --event passwordSubmit --certificate, its dry run, a second run that plans nothing, and doctor's
// checks of the certificate, the endpoint's key, the listener and the migration property, against
// the Graph stand-in, which knows these types on beta only.
import { randomUUID } from 'node:crypto'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { B2C_EXTENSIONS_APP_NAME } from '../../tools/registration/read-tenant.js'
import { FINDINGS, type FindingCode, type Severity } from '../../tools/registration/findings.js'
import {
  emptyEntraState,
  startEntraGraphServer,
  type EntraGraphStandIn,
  type EntraGraphState,
} from '../support/entra-graph-server.js'
import { startKeyVault, VAULT_RESOURCE, type KeyVaultStandIn } from '../support/key-vault.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'
import { encryptionCertificate, type TestCertificate } from './certificates.js'
import { runCli, signedIn, type OperatorCli } from '../support/operator-cli.js'

const BASE = 'https://contoso-ext.azurewebsites.net'
const CLIENT = 'c1c1c1c1-0000-4000-8000-000000000001'
const B2C_APP = 'b2cb2cb2-0000-4000-8000-0000000000b2'

let tokens: TokenEndpointStandIn
let stand: EntraGraphStandIn
let vault: KeyVaultStandIn
let cert: TestCertificate
let other: TestCertificate

function customerTenant(): EntraGraphState {
  const state = emptyEntraState(tokens.tenantId, 'CIAM')
  state.applications.push(
    {
      id: randomUUID(),
      appId: CLIENT,
      displayName: 'Client',
      identifierUris: [],
      api: {},
      requiredResourceAccess: [],
    },
    {
      id: randomUUID(),
      appId: B2C_APP,
      displayName: B2C_EXTENSIONS_APP_NAME,
      identifierUris: [],
      api: {},
      requiredResourceAccess: [],
    },
  )
  state.servicePrincipals.push({
    id: randomUUID(),
    appId: CLIENT,
    displayName: 'Client',
    accountEnabled: true,
  })
  return state
}

function run(cli: OperatorCli, args: string[], env: Record<string, string> = {}) {
  return runCli(cli, args, { ...signedIn(tokens, stand.origin), ...env })
}

const register = (args: string[] = []) =>
  run('register', [
    '--url',
    BASE,
    '--app',
    CLIENT,
    '--event',
    'passwordSubmit',
    '--certificate',
    cert.certPath,
    ...args,
  ])

let settings: Record<string, string>
const doctor = async (args: string[], env: Record<string, string> = {}) => {
  const r = await run(
    'doctor',
    ['--url', BASE, '--app', CLIENT, '--events', 'onPasswordSubmit', '--json', ...args],
    {
      ...settings,
      ...env,
    },
  )
  const { findings } = JSON.parse(r.stdout) as {
    findings: { severity: Severity; code: FindingCode; message: string; fix: string }[]
  }
  // Every finding's severity is one the findings table (and so the docs) allows its code.
  for (const f of findings)
    expect(FINDINGS[f.code].severities as readonly Severity[], f.code).toContain(f.severity)
  return { code: r.code, stderr: r.stderr, problems: findings.filter((f) => f.severity !== 'ok') }
}

/** The tokens the token endpoint issued for Key Vault: the only ones the vault stand-in takes. */
const vaultTokens = () => tokens.issued.filter((t) => decodeJwt(t).aud === VAULT_RESOURCE)

beforeAll(async () => {
  tokens = await startTokenEndpoint()
  stand = await startEntraGraphServer({ tokens, state: emptyEntraState(tokens.tenantId) })
  vault = await startKeyVault({ tenantId: tokens.tenantId, accepted: vaultTokens })
  cert = await encryptionCertificate(365)
  other = await encryptionCertificate(10)
})
afterAll(async () => {
  await vault?.close()
  await stand?.close()
  await tokens?.close()
})

describe('register --event passwordSubmit', () => {
  it('refuses to run without --certificate or --app, and a file that is not a certificate', async () => {
    const noCert = await run('register', [
      '--url',
      BASE,
      '--app',
      CLIENT,
      '--event',
      'passwordSubmit',
    ])
    expect(noCert.code).toBe(2)
    expect(noCert.stderr).toContain('--certificate is required for onPasswordSubmit')
    const key = await run('register', [
      '--url',
      BASE,
      '--app',
      CLIENT,
      '--event',
      'passwordSubmit',
      '--certificate',
      cert.keyPath,
    ])
    expect(key.code).toBe(2)
    expect(key.stderr).toContain('not a certificate')
  }, 60_000)

  it('dry run: shows the key credential, the property, the beta extension and listener, and writes nothing', async () => {
    stand.state = customerTenant()
    const mark = stand.requests.length
    const r = await register(['--dry-run'])
    expect(r.code).toBe(0)
    expect(stand.requests.slice(mark).filter((q) => q.method !== 'GET')).toEqual([])
    expect(r.stdout).toContain('dry run:')
    expect(r.stdout).toContain(`add certificate ${cert.certificate.thumbprint}`)
    expect(r.stdout).toContain(`PATCH /v1.0/applications/<new app>`)
    expect(r.stdout).toContain('"usage":"Encrypt"')
    expect(r.stdout).toContain(`POST /v1.0/applications/`)
    expect(r.stdout).toContain(
      '"name":"toBeMigrated","dataType":"Boolean","targetObjects":["User"]',
    )
    expect(r.stdout).toContain('POST /beta/identity/customAuthenticationExtensions')
    expect(r.stdout).toContain('POST /beta/identity/authenticationEventListeners')
    expect(r.stdout).toContain(
      `"migrationPropertyId":"extension_${B2C_APP.replace(/-/g, '')}_toBeMigrated"`,
    )
  }, 60_000)

  it('registers it all, a second run plans nothing, and doctor finds nothing wrong', async () => {
    stand.state = customerTenant()
    const first = await register(['--json'])
    expect(first.stderr).not.toContain('[1/')
    expect(first.code).toBe(0)
    const out = JSON.parse(first.stdout) as {
      settings: Record<string, string>
      extensionAppId: string
    }
    settings = out.settings
    const s = stand.state
    const app = s.applications.find((a) => a.appId === out.extensionAppId)!
    const keys = app.keyCredentials as {
      keyId: string
      usage: string
      type: string
      customKeyIdentifier: string
    }[]
    expect(keys).toEqual([
      expect.objectContaining({
        usage: 'Encrypt',
        type: 'AsymmetricX509Cert',
        customKeyIdentifier: cert.certificate.customKeyIdentifier,
      }),
    ])
    expect(app.tokenEncryptionKeyId).toBe(keys[0]!.keyId)
    expect(s.extensionProperties).toEqual([
      expect.objectContaining({
        name: `extension_${B2C_APP.replace(/-/g, '')}_toBeMigrated`,
        dataType: 'Boolean',
        targetObjects: ['User'],
      }),
    ])
    const extension = s.extensions.find(
      (e) => e['@odata.type'] === '#microsoft.graph.onPasswordSubmitCustomExtension',
    )!
    expect(s.listeners).toEqual([
      expect.objectContaining({
        '@odata.type': '#microsoft.graph.onPasswordSubmitListener',
        handler: {
          '@odata.type': '#microsoft.graph.onPasswordMigrationCustomExtensionHandler',
          customExtension: { id: extension.id },
          migrationPropertyId: `extension_${B2C_APP.replace(/-/g, '')}_toBeMigrated`,
        },
      }),
    ])
    // v1.0 does not know the preview types.
    expect(
      stand.requests.filter(
        (q) => q.path.startsWith('/v1.0/identity/') && q.method === 'POST' && q.status === 201,
      ),
    ).toEqual([])

    const mark = stand.requests.length
    const second = await register(['--dry-run'])
    expect(second.stdout).toContain('0 to create, 0 to update')
    expect(stand.requests.slice(mark).filter((q) => q.method !== 'GET')).toEqual([])

    const checked = await doctor(['--certificate', cert.keyPath])
    expect(checked.problems).toEqual([])
    expect(checked.code).toBe(0)
  }, 90_000)

  it('doctor: the endpoint key is not the certificate’s, the property and the listener are gone', async () => {
    const registered = structuredClone(stand.state)
    const mismatch = await doctor([], { PASSWORD_DECRYPTION_KEY_PATH: other.keyPath })
    expect(mismatch.problems.map((f) => f.code)).toEqual(['encryption-key-mismatch'])
    expect(mismatch.code).toBe(1)
    // During a rotation the endpoint holds two keys (its setting lists two paths): either may be
    // the app's, so the app's among them is a match, whichever comes first.
    const rotating = await doctor([], {
      PASSWORD_DECRYPTION_KEY_PATH: `${other.keyPath},${cert.keyPath}`,
    })
    expect(rotating.problems).toEqual([])
    expect(rotating.code).toBe(0)
    // A key that cannot be read is not compared: a warning (the table allows it), exit 0.
    const unreadable = await doctor([], {
      PASSWORD_DECRYPTION_KEY_PATH: `${cert.keyPath}.missing`,
    })
    expect(unreadable.problems).toMatchObject([
      { severity: 'warning', code: 'encryption-key-mismatch' },
    ])
    expect(unreadable.code).toBe(0)

    stand.state.listeners = []
    stand.state.extensionProperties = []
    const gone = await doctor([])
    expect(gone.problems.map((f) => f.code).sort()).toEqual([
      'listener-missing',
      'migration-property-missing',
    ])
    expect(gone.code).toBe(1)
    stand.state = registered
  }, 60_000)

  it('doctor: without a key file, compares the Key Vault certificate (the first name) by its public part, read with the operator credential', async () => {
    const registered = structuredClone(stand.state)
    const inVault = {
      PASSWORD_DECRYPTION_KEY_PATH: '',
      PASSWORD_DECRYPTION_KEY_VAULT_URL: vault.url,
      // During a rotation the first is the current one: the second is not compared.
      PASSWORD_DECRYPTION_CERT_NAME: 'pw-current,pw-next',
    }
    vault.certificates.set('pw-current', { der: Buffer.from(cert.certificate.derBase64, 'base64') })
    vault.certificates.set('pw-next', { der: Buffer.from(other.certificate.derBase64, 'base64') })
    const mark = vault.requests.length
    const tokenMark = tokens.tokenRequests.length
    const matching = await doctor([], inVault)
    expect(matching.problems).toEqual([])
    expect(matching.code).toBe(0)
    const asked = vault.requests.slice(mark)
    // The certificate's public part only: never the secret that holds its private key.
    expect(asked.map((q) => q.path.replace(/\/$/, ''))).toEqual([
      '/certificates/pw-current',
      '/certificates/pw-current',
    ])
    expect(asked[0]?.bearer).toBeUndefined() // the 401 challenge first
    expect(vaultTokens()).toContain(asked[1]?.bearer)
    expect(
      tokens.tokenRequests.slice(tokenMark).map((r) => [r.clientId, r.clientAuth, r.scope]),
    ).toContainEqual([tokens.clientId, 'secret', `${VAULT_RESOURCE}/.default`])

    vault.certificates.set('pw-current', {
      der: Buffer.from(other.certificate.derBase64, 'base64'),
    })
    const mismatch = await doctor([], inVault)
    expect(mismatch.problems).toMatchObject([
      {
        severity: 'error',
        code: 'encryption-key-mismatch',
        message: expect.stringContaining(`Key Vault certificate pw-current in ${vault.url}`),
      },
    ])
    expect(mismatch.code).toBe(1)

    vault.mode = { kind: 'fail', status: 403 }
    const denied = await doctor([], inVault)
    vault.mode = { kind: 'up' }
    expect(denied.problems).toEqual([
      {
        severity: 'warning',
        code: 'encryption-key-mismatch',
        message: expect.stringContaining(
          `Key Vault certificate pw-current in ${vault.url} could not be read: Key Vault answered 403`,
        ),
        fix: expect.stringContaining('Key Vault Certificate User'),
      },
    ])
    expect(denied.problems[0]?.fix).toContain('certificates/get')
    expect(denied.code).toBe(0)
    expect(denied.stderr).not.toMatch(/\n\s+at /)
    // A key file given wins: the vault is not asked.
    vault.mode = { kind: 'fail', status: 403 }
    const asked403 = vault.requests.length
    const byFile = await doctor(['--certificate', cert.keyPath], inVault)
    vault.mode = { kind: 'up' }
    expect(byFile.problems).toEqual([])
    expect(vault.requests.length).toBe(asked403)
    // The endpoint's rule: the vault and the certificate name come together.
    const half = await run('doctor', ['--url', BASE, '--events', 'onPasswordSubmit'], {
      ...settings,
      PASSWORD_DECRYPTION_KEY_VAULT_URL: vault.url,
    })
    expect(half.code).toBe(2)
    expect(half.stderr).toContain(
      'PASSWORD_DECRYPTION_CERT_NAME: is required with PASSWORD_DECRYPTION_KEY_VAULT_URL',
    )

    vault.certificates.clear()
    const missing = await doctor([], inVault)
    expect(missing.problems).toMatchObject([
      {
        severity: 'warning',
        code: 'encryption-key-mismatch',
        message: expect.stringContaining('404'),
        fix: expect.stringContaining('PASSWORD_DECRYPTION_CERT_NAME'),
      },
    ])
    expect(missing.code).toBe(0)
    // A vault that does not answer (nothing listens there).
    const unreachable = await doctor([], {
      ...inVault,
      PASSWORD_DECRYPTION_KEY_VAULT_URL: 'https://127.0.0.1:1',
    })
    expect(unreachable.problems).toMatchObject([
      {
        severity: 'warning',
        code: 'encryption-key-mismatch',
        message: expect.stringContaining(
          'Key Vault certificate pw-current in https://127.0.0.1:1 could not be read: the vault did not answer',
        ),
      },
    ])
    expect(unreachable.code).toBe(0)
    expect(unreachable.stderr).not.toMatch(/\n\s+at /)
    stand.state = registered
  }, 90_000)

  it('leaves the token encryption of an --extension-app it did not create alone, and says the change to make by hand', async () => {
    const EXT_APP = 'e0e0e0e0-0000-4000-8000-0000000000e0'
    const existingKey = {
      keyId: randomUUID(),
      type: 'AsymmetricX509Cert',
      usage: 'Encrypt',
      key: other.certificate.derBase64,
      customKeyIdentifier: other.certificate.customKeyIdentifier,
      endDateTime: other.certificate.notAfter.toISOString(),
    }
    for (const tokenEncryptionKeyId of [existingKey.keyId, null]) {
      stand.state = customerTenant()
      const appObject = {
        id: randomUUID(),
        appId: EXT_APP,
        displayName: 'Someone else’s API',
        identifierUris: [],
        api: {},
        requiredResourceAccess: [],
        keyCredentials: [existingKey],
        tokenEncryptionKeyId,
      }
      stand.state.applications.push(appObject)
      const r = await register(['--extension-app', EXT_APP, '--json'])
      const app = stand.state.applications.find((a) => a.appId === EXT_APP)!
      // Nothing of its token encryption changed: not the key set, not the key ID.
      expect(app.keyCredentials).toEqual([existingKey])
      expect(app.tokenEncryptionKeyId).toBe(tokenEncryptionKeyId)
      expect(r.code).toBe(1)
      const { problems } = JSON.parse(r.stdout) as { problems: string[] }
      const problem = problems.find((p) => p.includes('tokenEncryptionKeyId'))
      expect(problem).toContain(`app ${EXT_APP} (--extension-app) was not made by register`)
      expect(problem).toContain(`PATCH /v1.0/applications/${appObject.id} with keyCredentials`)
      expect(problem).toContain(cert.certificate.customKeyIdentifier)
      expect(problem).toContain(
        tokenEncryptionKeyId === null
          ? 'turns on token encryption'
          : `its tokenEncryptionKeyId is ${existingKey.keyId}`,
      )
    }
  }, 90_000)

  it('doctor warns of a certificate that expires within 30 days', async () => {
    stand.state = customerTenant()
    const r = await run('register', [
      '--url',
      BASE,
      '--app',
      CLIENT,
      '--events',
      'onPasswordSubmit',
      '--certificate',
      other.certPath,
    ])
    expect(r.code).toBe(0)
    // stderr is piped: no step counter; the summary is on stdout.
    expect(r.stderr).not.toMatch(/\[\d+\/\d+\]/)
    expect(r.stdout).toMatch(/^\d+ change\(s\) made in tenant /m)
    settings = Object.fromEntries(
      ['ENTRA_TENANT_ID', 'ENTRA_AUDIENCE', 'ENTRA_ISSUER'].map((name) => [
        name,
        new RegExp(`${name}=(\\S+)`).exec(r.stdout)?.[1] ?? '',
      ]),
    )
    const expiring = await doctor(['--certificate', other.certPath])
    expect(expiring.problems).toMatchObject([
      { severity: 'warning', code: 'encryption-certificate-expiring' },
    ])
    expect(expiring.code).toBe(0)
  }, 60_000)
})
