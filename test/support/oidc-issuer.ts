// A real OpenID issuer on loopback: discovery + JWKS over HTTP, RSA keys generated at test time,
// tokens minted like Entra's. It can rotate keys, go down, hang, and counts every fetch.
import { KeyObject, sign } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose'
import { ENTRA_EVENTS_APP_ID } from '../../src/auth/verify-caller.js'

export const TENANT_ID = '11111111-2222-4333-8444-555555555555'
export const EXTENSION_APP_ID = 'a1b2c3d4-0000-4000-8000-00000000e0e0'
export const IDENTIFIER_URI = `api://ext.example.test/${EXTENSION_APP_ID}`

export interface SigningKey {
  readonly kid: string
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
}

export type IssuerMode = 'up' | 'down' | 'hang'

export interface TestIssuer {
  readonly issuer: string
  readonly origin: string
  readonly tenantId: string
  mode: IssuerMode
  readonly hits: { metadata: number; jwks: number }
  /** The key set served; the first key signs by default. */
  keys: SigningKey[]
  newKey(kid?: string): Promise<SigningKey>
  /** A v2 token as Entra sends it; `claims` override or (with undefined) remove claims. */
  mint(claims?: Record<string, unknown>, options?: MintOptions): Promise<string>
  close(): Promise<void>
}

export interface MintOptions {
  readonly key?: SigningKey
  readonly header?: Record<string, unknown>
  readonly alg?: string
}

export async function startTestIssuer(tenantId: string = TENANT_ID): Promise<TestIssuer> {
  const hanging = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    const path = req.url ?? ''
    const isMetadata = path === `/${tenantId}/v2.0/.well-known/openid-configuration`
    const isJwks = path === `/${tenantId}/discovery/v2.0/keys`
    if (isMetadata) state.hits.metadata++
    if (isJwks) state.hits.jwks++
    if (state.mode === 'hang') {
      hanging.add(res)
      return
    }
    if (state.mode === 'down' || (!isMetadata && !isJwks)) {
      res.writeHead(state.mode === 'down' ? 503 : 404).end()
      return
    }
    const document = isMetadata
      ? { issuer: state.issuer, jwks_uri: `${state.origin}/${tenantId}/discovery/v2.0/keys` }
      : { keys: state.keys.map((key) => key.publicJwk) }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const state: TestIssuer = {
    issuer: `${origin}/${tenantId}/v2.0`,
    origin,
    tenantId,
    mode: 'up',
    hits: { metadata: 0, jwks: 0 },
    keys: [],
    newKey: createSigningKey,
    async mint(claims = {}, options = {}) {
      const key = options.key ?? state.keys[0]
      if (key === undefined) throw new Error('the issuer has no key')
      const now = Math.floor(Date.now() / 1000)
      const payload: JWTPayload = {
        iss: state.issuer,
        aud: EXTENSION_APP_ID,
        tid: tenantId,
        ver: '2.0',
        azp: ENTRA_EVENTS_APP_ID,
        idtyp: 'app',
        iat: now,
        nbf: now,
        exp: now + 3600,
        ...claims,
      }
      for (const [name, value] of Object.entries(claims))
        if (value === undefined) delete payload[name]
      return new SignJWT(payload)
        .setProtectedHeader({
          alg: options.alg ?? 'RS256',
          kid: key.kid,
          typ: 'JWT',
          ...options.header,
        })
        .sign(key.privateKey)
    },
    close() {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  state.keys = [await createSigningKey()]
  return state
}

let keyCounter = 0
export async function createSigningKey(kid = `test-key-${++keyCounter}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' },
  }
}

/** RSASSA-PKCS1-v1_5 over any header, for tokens jose refuses to make ("crit", RS384 with an RS256 key). */
export function signCompact(
  header: object,
  payload: object,
  key: SigningKey,
  hash = 'sha256',
): string {
  const input = craftToken(header, payload).slice(0, -1)
  const signature = sign(hash, Buffer.from(input), KeyObject.from(key.privateKey)).toString(
    'base64url',
  )
  return `${input}.${signature}`
}

/** A compact JWS with an arbitrary header and signature, for tokens jose refuses to make. */
export function craftToken(header: object, payload: object, signature = ''): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part(header)}.${part(payload)}.${signature}`
}
