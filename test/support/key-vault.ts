// A stand-in for Azure Key Vault's secrets and certificates REST API on loopback HTTPS (the test
// CA), enough for @azure/keyvault-secrets' getSecret: GET /secrets/{name}/{version?}?api-version=…
// and @azure/keyvault-certificates' getCertificate: GET /certificates/{name}/{version?}?… (the
// certificate bundle: id, kid, sid, x5t, cer as base64 DER, attributes, policy). A request
// without a bearer token gets the real 401 challenge (WWW-Authenticate with the authority and
// the vault resource), which the SDK answers with a token for that resource from the managed
// identity (or the operator's credential); only the tokens `accepted` lists pass. A certificate's
// private key is served as Key Vault serves it: the secret of the certificate's name, PEM or
// base64 PFX by contentType; its public part is in `certificates`. It can fail (a 403 answers
// Key Vault's Forbidden body) or hang.
import { createHash, randomBytes, X509Certificate } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { heldAnswers } from './held-answers.js'
import { testTls } from './test-ca.js'

export const VAULT_RESOURCE = 'https://vault.azure.net'

export interface VaultSecret {
  readonly value: string
  readonly contentType: 'application/x-pem-file' | 'application/x-pkcs12'
}

/** A certificate's public part, as getCertificate serves it. */
export interface VaultCertificate {
  /** The DER X.509 certificate (`cer`). */
  readonly der: Buffer
}

export type KeyVaultMode =
  | { readonly kind: 'up' }
  | { readonly kind: 'fail'; readonly status: number }
  | { readonly kind: 'hang' }

export interface KeyVaultStandIn {
  /** PASSWORD_DECRYPTION_KEY_VAULT_URL */
  readonly url: string
  readonly secrets: Map<string, VaultSecret>
  /** GET /certificates/{name}: the public part of a certificate, by name. */
  readonly certificates: Map<string, VaultCertificate>
  mode: KeyVaultMode
  /** Each request: its path, and whether it carried a bearer token (and which). */
  readonly requests: { path: string; bearer: string | undefined }[]
  close(): Promise<void>
}

export async function startKeyVault(options: {
  readonly tenantId: string
  /** The tokens accepted (the managed-identity stand-in's `issued`). */
  readonly accepted: () => readonly string[]
}): Promise<KeyVaultStandIn> {
  const tls = await testTls()
  const held = heldAnswers()
  const json = (res: ServerResponse, status: number, body: unknown, headers = {}) =>
    res
      .writeHead(status, { 'content-type': 'application/json', ...headers })
      .end(JSON.stringify(body))
  const challenge = {
    'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${options.tenantId}", resource="${VAULT_RESOURCE}"`,
  }
  const state: KeyVaultStandIn = {
    url: '',
    secrets: new Map(),
    certificates: new Map(),
    mode: { kind: 'up' },
    requests: [],
    close: () =>
      new Promise<void>((resolve) => {
        held.close()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    req.resume()
    const url = new URL(req.url ?? '/', 'https://vault')
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    state.requests.push({ path: url.pathname, bearer })
    if (state.mode.kind === 'hang') {
      held.hang(res)
      return
    }
    if (bearer === undefined || !options.accepted().includes(bearer)) {
      json(
        res,
        401,
        {
          error: {
            code: 'Unauthorized',
            message: 'AKV10000: Request is missing a Bearer or PoP token.',
          },
        },
        challenge,
      )
      return
    }
    if (state.mode.kind === 'fail') {
      json(
        res,
        state.mode.status,
        state.mode.status === 403
          ? {
              error: {
                code: 'Forbidden',
                message: `Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=${randomBytes(4).toString('hex')}\r\nAction: 'Microsoft.KeyVault/vaults/certificates/read'`,
                innererror: { code: 'ForbiddenByRbac' },
              },
            }
          : { error: { code: 'ServiceUnavailable', message: 'try later' } },
      )
      return
    }
    const certificate = /^\/certificates\/([A-Za-z0-9-]+)\/?([a-f0-9]*)$/.exec(url.pathname)
    if (req.method === 'GET' && certificate !== null && url.searchParams.has('api-version')) {
      const name = certificate[1] ?? ''
      const found = state.certificates.get(name)
      if (found === undefined) {
        json(res, 404, {
          error: {
            code: 'CertificateNotFound',
            message: `A certificate with (name/id) ${name} was not found in this key vault. If you recently deleted this certificate you may be able to recover it using the correct recovery command.`,
          },
        })
        return
      }
      const version = certificate[2] || randomBytes(16).toString('hex')
      const now = Math.floor(Date.now() / 1000)
      const x509 = new X509Certificate(found.der)
      const attributes = {
        enabled: true,
        nbf: Math.floor(Date.parse(x509.validFrom) / 1000),
        exp: Math.floor(Date.parse(x509.validTo) / 1000),
        created: now,
        updated: now,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      }
      json(res, 200, {
        id: `${state.url}/certificates/${name}/${version}`,
        kid: `${state.url}/keys/${name}/${version}`,
        sid: `${state.url}/secrets/${name}/${version}`,
        x5t: createHash('sha1').update(found.der).digest('base64url'),
        cer: found.der.toString('base64'),
        attributes,
        policy: {
          id: `${state.url}/certificates/${name}/policy`,
          key_props: { exportable: true, kty: 'RSA', key_size: 2048, reuse_key: false },
          secret_props: { contentType: 'application/x-pem-file' },
          x509_props: { subject: x509.subject.replace(/\n/g, ', '), validity_months: 12 },
          issuer: { name: 'Self' },
          attributes: { enabled: true, created: now, updated: now },
        },
      })
      return
    }
    const match = /^\/secrets\/([A-Za-z0-9-]+)\/?([a-f0-9]*)$/.exec(url.pathname)
    if (req.method !== 'GET' || match === null || !url.searchParams.has('api-version')) {
      json(res, 400, { error: { code: 'BadParameter', message: 'unsupported request' } })
      return
    }
    const name = match[1] ?? ''
    const secret = state.secrets.get(name)
    if (secret === undefined) {
      json(res, 404, {
        error: {
          code: 'SecretNotFound',
          message: `A secret with (name/id) ${name} was not found in this key vault.`,
        },
      })
      return
    }
    const version = match[2] || randomBytes(16).toString('hex')
    const now = Math.floor(Date.now() / 1000)
    json(res, 200, {
      value: secret.value,
      contentType: secret.contentType,
      id: `${state.url}/secrets/${name}/${version}`,
      managed: true,
      kid: `${state.url}/keys/${name}/${version}`,
      attributes: {
        enabled: true,
        created: now,
        updated: now,
        recoveryLevel: 'Recoverable+Purgeable',
      },
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(state, { url: `https://127.0.0.1:${port}` })
}
