// Development issuer for `npm start` without a tenant: an OpenID issuer on loopback with a key pair
// made at start, minting tokens shaped like Entra's (v2, azp = the authentication events service).
// Never used when ENTRA_TENANT_ID is set; refuses to run for a non-loopback host (local-server.ts).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { ENTRA_EVENTS_APP_ID } from '../auth/verify-caller.js'

export const DEV_TENANT_ID = 'd0d0d0d0-0000-4000-8000-000000000001'
/** The dev "extension app" client ID: v2 tokens carry it as aud (contract §2). */
export const DEV_AUDIENCE = 'd0d0d0d0-0000-4000-8000-0000000000a5'

export interface DevIssuer {
  readonly issuer: string
  mintToken(): Promise<string>
  close(): Promise<void>
}

/** `unref`: the issuer does not keep the process alive (in-process tests, src/testing). */
export async function startDevIssuer(options: { unref?: boolean } = {}): Promise<DevIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  const kid = `dev-${Date.now().toString(36)}`
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' }

  const server = createServer((req, res) => {
    const documents: Record<string, unknown> = {
      [`/${DEV_TENANT_ID}/v2.0/.well-known/openid-configuration`]: {
        issuer,
        jwks_uri: `${origin}/${DEV_TENANT_ID}/discovery/v2.0/keys`,
      },
      [`/${DEV_TENANT_ID}/discovery/v2.0/keys`]: { keys: [jwk] },
    }
    const document = req.method === 'GET' ? documents[req.url ?? ''] : undefined
    res.writeHead(document === undefined ? 404 : 200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(document ?? { error: 'not found' }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  if (options.unref === true) server.unref()
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const issuer = `${origin}/${DEV_TENANT_ID}/v2.0`

  return {
    issuer,
    mintToken: () =>
      new SignJWT({ ver: '2.0', azp: ENTRA_EVENTS_APP_ID, tid: DEV_TENANT_ID, idtyp: 'app' })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience(DEV_AUDIENCE)
        .setIssuedAt()
        .setNotBefore('0s')
        .setExpirationTime('1h')
        .sign(privateKey),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
