// A stand-in for Azure Key Vault's secrets REST API on loopback HTTPS (the test CA), enough for
// @azure/keyvault-secrets' getSecret: GET /secrets/{name}/{version?}?api-version=… A request
// without a bearer token gets the real 401 challenge (WWW-Authenticate with the authority and
// the vault resource), which the SDK answers with a token for that resource from the managed
// identity; only tokens the managed-identity stand-in issued are accepted. A certificate's
// private key is served as Key Vault serves it: the secret of the certificate's name, PEM or
// base64 PFX by contentType. It can fail or hang.
import { randomBytes } from 'node:crypto'
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

export type KeyVaultMode =
  | { readonly kind: 'up' }
  | { readonly kind: 'fail'; readonly status: number }
  | { readonly kind: 'hang' }

export interface KeyVaultStandIn {
  /** PASSWORD_DECRYPTION_KEY_VAULT_URL */
  readonly url: string
  readonly secrets: Map<string, VaultSecret>
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
      json(res, state.mode.status, { error: { code: 'ServiceUnavailable', message: 'try later' } })
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
