// A stand-in for a legacy OpenID provider's token endpoint (Auth0, Okta, Keycloak, a B2C ROPC
// user flow) on loopback HTTPS (the test CA), speaking the resource-owner password credentials
// grant of RFC 6749 §4.3: POST /oauth/token, application/x-www-form-urlencoded, grant_type=password
// with username, password, client_id, client_secret (client_secret_post) and scope. Right
// credentials: 200 with an access token; wrong ones: `invalid_grant` (§5.2) with the status of
// the chosen provider (`provider`: RFC 6749's 400, Auth0's 403, Keycloak's 401); a wrong client:
// 401 invalid_client. It records the requests, and can fail, answer slowly, or not at all.
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { heldAnswers } from './held-answers.js'
import { testTls } from './test-ca.js'

export type RopcMode =
  | { readonly kind: 'up' }
  /** Answers `status` with `body` (JSON) to every token request. */
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  /** Answers normally after delayMs. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Never answers; close() ends the connection. */
  | { readonly kind: 'hang' }

/**
 * How a wrong password is answered: `rfc6749` 400 invalid_grant (Okta, B2C), `auth0` 403
 * invalid_grant "Wrong email or password.", `keycloak` 401 invalid_grant "Invalid user credentials".
 */
export type RopcProvider = 'rfc6749' | 'auth0' | 'keycloak'

const WRONG_PASSWORD: Record<RopcProvider, { status: number; description: string }> = {
  rfc6749: { status: 400, description: 'The provided credentials are invalid.' },
  auth0: { status: 403, description: 'Wrong email or password.' },
  keycloak: { status: 401, description: 'Invalid user credentials' },
}

export interface RopcEndpoint {
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: string
  /** The form of every token request. */
  readonly requests: URLSearchParams[]
  /** The access tokens handed out. */
  readonly issued: string[]
  mode: RopcMode
  provider: RopcProvider
  close(): Promise<void>
}

export async function startRopcEndpoint(
  users: Readonly<Record<string, string>>,
): Promise<RopcEndpoint> {
  const tls = await testTls()
  const held = heldAnswers()
  const clientId = 'legacy-spa'
  const clientSecret = randomBytes(16).toString('hex')
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res
      .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify(body))

  const grant = (res: ServerResponse, form: URLSearchParams) => {
    if (form.get('grant_type') !== 'password') {
      json(res, 400, { error: 'unsupported_grant_type' })
      return
    }
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      json(res, 401, {
        error: 'invalid_client',
        error_description: 'Client authentication failed.',
      })
      return
    }
    const username = form.get('username') ?? ''
    if (!Object.hasOwn(users, username) || users[username] !== form.get('password')) {
      const wrong = WRONG_PASSWORD[state.provider]
      json(res, wrong.status, { error: 'invalid_grant', error_description: wrong.description })
      return
    }
    const token = randomBytes(24).toString('base64url')
    state.issued.push(token)
    json(res, 200, {
      access_token: token,
      token_type: 'Bearer',
      expires_in: 3600,
      scope: form.get('scope') ?? '',
    })
  }

  const state: RopcEndpoint = {
    tokenUrl: '',
    clientId,
    clientSecret,
    requests: [],
    issued: [],
    mode: { kind: 'up' },
    provider: 'rfc6749',
    close: () =>
      new Promise<void>((resolve) => {
        held.close()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }

  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/oauth/token') {
        json(res, 404, { error: 'not_found' })
        return
      }
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      state.requests.push(form)
      const mode = state.mode
      if (mode.kind === 'up') grant(res, form)
      else if (mode.kind === 'answer') json(res, mode.status, mode.body)
      else if (mode.kind === 'slow') held.later(res, mode.delayMs, () => grant(res, form))
      else held.hang(res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return Object.assign(state, { tokenUrl: `https://127.0.0.1:${port}/oauth/token` })
}
