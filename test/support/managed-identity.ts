// A stand-in for the App Service managed identity endpoint (protocol 2019-08-01) on loopback:
// GET ?api-version=2019-08-01&resource=…[&client_id=…] with the `x-identity-header` secret
// answers a fresh bearer token. It counts hits, and can fail or hang. @azure/identity finds it
// through IDENTITY_ENDPOINT and IDENTITY_HEADER: see useEnvironment().
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export const API_VERSION = '2019-08-01'

export type ManagedIdentityMode =
  | { readonly kind: 'up' }
  /** Answers this status with an error body, as the real endpoint does. */
  | { readonly kind: 'fail'; readonly status: number }
  /** Never answers; close() ends the connection. */
  | { readonly kind: 'hang' }

export interface IdentityRequest {
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
}

export interface ManagedIdentityStandIn {
  /** IDENTITY_ENDPOINT */
  readonly endpoint: string
  /** IDENTITY_HEADER: requests without it are refused with 401. */
  readonly secret: string
  mode: ManagedIdentityMode
  /** How many requests arrived, answered or not. */
  readonly hits: number
  /** Every request, answered or not. */
  readonly requests: IdentityRequest[]
  /** The access tokens handed out, in order. */
  readonly issued: string[]
  /** Points IDENTITY_ENDPOINT and IDENTITY_HEADER here; returns a function that restores them. */
  useEnvironment(): () => void
  close(): Promise<void>
}

/**
 * `token` makes each access token (default: an opaque string); a JWT-shaped one for a service that
 * reads its claims, as Azurite with `--oauth basic` does.
 */
export async function startManagedIdentity(
  options: { readonly token?: (resource: string) => string } = {},
): Promise<ManagedIdentityStandIn> {
  const secret = randomBytes(16).toString('hex')
  const hanging = new Set<ServerResponse>()
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    state.requests.push({ query: url.searchParams, headers: req.headers })
    const mode = state.mode
    if (mode.kind === 'hang') {
      hanging.add(res)
      res.on('close', () => hanging.delete(res))
      return
    }
    if (req.method !== 'GET' || url.pathname !== '/msi/token') {
      json(res, 404, { error: { code: 'NotFound', message: 'no such route' } })
      return
    }
    if (req.headers['x-identity-header'] !== secret) {
      json(res, 401, { error: { code: 'Unauthorized', message: 'x-identity-header is wrong' } })
      return
    }
    const resource = url.searchParams.get('resource')
    if (url.searchParams.get('api-version') !== API_VERSION || resource === null) {
      json(res, 400, { error: { code: 'BadRequest', message: 'api-version or resource' } })
      return
    }
    if (mode.kind === 'fail') {
      json(res, mode.status, { error: { code: 'Unavailable', message: 'identity failure' } })
      return
    }
    const token =
      options.token?.(resource) ??
      `mi-token-${state.issued.length + 1}-${randomBytes(8).toString('hex')}`
    state.issued.push(token)
    json(res, 200, {
      access_token: token,
      expires_on: String(Math.floor(Date.now() / 1000) + 3600),
      resource,
      token_type: 'Bearer',
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const state: ManagedIdentityStandIn = {
    endpoint: `${origin}/msi/token`,
    secret,
    mode: { kind: 'up' },
    get hits() {
      return state.requests.length
    },
    requests: [],
    issued: [],
    useEnvironment() {
      const saved = {
        IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT,
        IDENTITY_HEADER: process.env.IDENTITY_HEADER,
      }
      process.env.IDENTITY_ENDPOINT = state.endpoint
      process.env.IDENTITY_HEADER = secret
      return () => {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      }
    },
    close() {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return state
}
