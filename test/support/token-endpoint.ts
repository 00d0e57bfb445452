// An HTTPS stand-in for the Microsoft identity platform (login.microsoftonline.com) on loopback,
// enough for MSAL inside @azure/identity's ClientSecretCredential and ClientCertificateCredential
// with `{ authorityHost: tokens.authorityHost, disableInstanceDiscovery: true }`. MSAL (5.6) asks
// for the first two; the keys are for anyone who wants to check a token themselves:
//   GET  /{tenant}/v2.0/.well-known/openid-configuration   once per credential
//   POST /{tenant}/oauth2/v2.0/token      client_credentials, by client_secret or client_assertion
//   GET  /{tenant}/discovery/v2.0/keys    the access tokens' signing key (JWKS)
// Without disableInstanceDiscovery MSAL first asks login.microsoftonline.com itself (a hardcoded
// host, not authorityHost) for instance discovery: offline, getToken fails with
// endpoints_resolution_error after about 5 s of retries.
// Access tokens are ES256 JWTs for the scope's resource (https://graph.microsoft.com/.default ->
// aud https://graph.microsoft.com); the Graph stand-in checks them with verifyAccessToken().
// It counts token requests, records their scopes, and can fail, be slow or hang (token requests
// only: metadata keeps being served, as MSAL fetches it once per credential). Beware, for faults:
// @azure/identity 4.13 retries a 5xx 3 times (4 hits, ~5 s) unless retryOptions.maxRetries says
// otherwise, and getToken's abortSignal does not reach the HTTP request: a hang lasts until the
// caller stops waiting on its own (the socket stays open) or close() ends it.
import { createHash, randomBytes, randomUUID, X509Certificate } from 'node:crypto'
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importX509,
  jwtVerify,
  SignJWT,
  type JWTPayload,
} from 'jose'
import { testTls } from './test-ca.js'
import { heldAnswers } from './held-answers.js'

export const GRAPH_RESOURCE = 'https://graph.microsoft.com'
export const GRAPH_SCOPE = `${GRAPH_RESOURCE}/.default`
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** An app registration allowed to get tokens: by secret, by certificate, or (neither) any assertion. */
export interface TokenClient {
  readonly clientId: string
  readonly secret?: string
  /** PEM certificate: assertions must be signed by its key and name its thumbprint. */
  readonly certificate?: string
  /** Application permissions, as the token's `roles` claim. */
  readonly roles?: readonly string[]
}

export type TokenEndpointMode =
  | { readonly kind: 'up' }
  /**
   * Answers this status with an AAD error body: `error` defaults to invalid_client below 500
   * and server_error (temporarily_unavailable for 503) from 500 on.
   */
  | { readonly kind: 'fail'; readonly status: number; readonly error?: string }
  /** Answers normally after delayMs. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Never answers; close() ends the connection. */
  | { readonly kind: 'hang' }

export interface RecordedHttpRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
}

export interface TokenRequest {
  readonly tenant: string
  readonly clientId: string | null
  readonly grantType: string | null
  readonly scope: string | null
  /** How the client proved itself. */
  readonly clientAuth: 'secret' | 'assertion' | 'none'
  readonly params: URLSearchParams
  readonly headers: IncomingHttpHeaders
}

export interface AccessTokenClaims extends JWTPayload {
  readonly aud: string
  readonly tid: string
  readonly appid: string
  readonly roles: string[]
}

export type TokenCheck =
  | { readonly ok: true; readonly claims: AccessTokenClaims }
  | { readonly ok: false; readonly reason: string }

export interface TokenEndpointOptions {
  readonly tenantId?: string
  /** The default client's roles. */
  readonly roles?: readonly string[]
  /** expires_in of the tokens handed out. MSAL refreshes tokens within 5 minutes of expiry. */
  readonly expiresInSeconds?: number
}

export interface TokenEndpointStandIn {
  /** `authorityHost` for the credentials: https://127.0.0.1:<port> */
  readonly authorityHost: string
  readonly tenantId: string
  /** A registered client with a secret (clientSecret), made for you. */
  readonly clientId: string
  readonly clientSecret: string
  /** Where client credentials tokens are asked for. */
  readonly tokenUrl: string
  mode: TokenEndpointMode
  expiresInSeconds: number
  /** How many token requests arrived, answered or not. */
  readonly hits: number
  /** Every token request, answered or not. */
  readonly tokenRequests: TokenRequest[]
  /** Every request of any kind (metadata, keys, tokens), in order. */
  readonly requests: RecordedHttpRequest[]
  /** The `scope` of every token request. */
  readonly scopes: (string | null)[]
  /** The access tokens handed out, in order. */
  readonly issued: string[]
  addClient(client: TokenClient): void
  /** Whether `token` is a live access token from this endpoint for `audience`. */
  verifyAccessToken(token: string, audience?: string): Promise<TokenCheck>
  /** Forgets the requests, and is up again. */
  reset(): void
  close(): Promise<void>
}

const DEFAULT_ROLES = ['User.Read.All', 'GroupMember.Read.All']

export async function startTokenEndpoint(
  options: TokenEndpointOptions = {},
): Promise<TokenEndpointStandIn> {
  const tls = await testTls()
  const tenantId = options.tenantId ?? randomUUID()
  const clientId = randomUUID()
  const clientSecret = `secret~${randomBytes(18).toString('base64url')}`
  const clients = new Map<string, TokenClient>()
  clients.set(clientId, { clientId, secret: clientSecret, roles: options.roles ?? DEFAULT_ROLES })
  const signing = await generateKeyPair('ES256', { extractable: true })
  const kid = randomBytes(8).toString('hex')
  const held = heldAnswers() // slow or hanging answers: ended by close()

  const json = (res: ServerResponse, status: number, body: unknown) =>
    res
      .writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
      .end(JSON.stringify(body))

  /** An AAD-shaped OAuth error. */
  const oauthError = (res: ServerResponse, status: number, error: string, aadsts: string) => {
    const traceId = randomUUID()
    const correlationId = randomUUID()
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z')
    const code = Number(/^AADSTS(\d+)/.exec(aadsts)?.[1] ?? 0)
    json(res, status, {
      error,
      error_description: `${aadsts}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${origin}/error?code=${code}`,
    })
  }

  /** Checks the client's proof; answers the error itself and returns undefined when it fails. */
  const authenticate = async (
    res: ServerResponse,
    params: URLSearchParams,
    tenant: string,
  ): Promise<TokenClient | undefined> => {
    const id = params.get('client_id')
    const client = id === null ? undefined : clients.get(id)
    if (id === null || client === undefined) {
      oauthError(
        res,
        400,
        'unauthorized_client',
        `AADSTS700016: Application with identifier '${id}' was not found in the directory '${tenant}'.`,
      )
      return undefined
    }
    const secret = params.get('client_secret')
    const assertion = params.get('client_assertion')
    if (secret !== null) {
      if (client.secret !== undefined && secret === client.secret) return client
    } else if (assertion !== null) {
      const problem = await checkAssertion(assertion, params, client, `${origin}/${tenant}`)
      if (problem === undefined) return client
      oauthError(res, 401, 'invalid_client', `AADSTS700027: Client assertion: ${problem}.`)
      return undefined
    }
    oauthError(
      res,
      401,
      'invalid_client',
      `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${id}'.`,
    )
    return undefined
  }

  const issueToken = async (res: ServerResponse, params: URLSearchParams, tenant: string) => {
    if (params.get('grant_type') !== 'client_credentials') {
      oauthError(
        res,
        400,
        'unsupported_grant_type',
        `AADSTS70003: The app requested an unsupported grant type '${params.get('grant_type')}'.`,
      )
      return
    }
    const client = await authenticate(res, params, tenant)
    if (client === undefined) return
    const scope = params.get('scope') ?? ''
    const resource = scope.split(' ').find((s) => s.endsWith('/.default'))
    if (resource === undefined || scope.trim().split(/\s+/).length !== 1) {
      oauthError(
        res,
        400,
        'invalid_scope',
        `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      )
      return
    }
    const expiresIn = state.expiresInSeconds
    const token = await new SignJWT({
      tid: tenantId,
      appid: client.clientId,
      azp: client.clientId,
      idtyp: 'app',
      oid: client.clientId,
      roles: [...(client.roles ?? [])],
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .setIssuer(`https://sts.windows.net/${tenantId}/`)
      .setAudience(resource.slice(0, -'/.default'.length))
      .setSubject(client.clientId)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(`${expiresIn}s`)
      .setJti(randomUUID())
      .sign(signing.privateKey)
    state.issued.push(token)
    json(res, 200, {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: token,
    })
  }

  const failToken = (res: ServerResponse, status: number, error: string | undefined) => {
    const code =
      error ??
      (status < 500
        ? 'invalid_client'
        : status === 503
          ? 'temporarily_unavailable'
          : 'server_error')
    const aadsts =
      code === 'invalid_client'
        ? 'AADSTS7000215: Invalid client secret provided.'
        : 'AADSTS90033: A transient error has occurred. Please try again.'
    oauthError(res, status, code, aadsts)
  }

  const openidConfiguration = (tenant: string) => {
    const base = `${origin}/${tenant}`
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: [
        'client_secret_post',
        'private_key_jwt',
        'client_secret_basic',
      ],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    }
  }

  const route = async (res: ServerResponse, method: string, url: URL, body: string) => {
    const [, tenant = '', ...rest] = url.pathname.split('/')
    const path = rest.join('/')
    if (tenant !== tenantId) {
      oauthError(
        res,
        400,
        'invalid_tenant',
        `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      )
      return
    }
    if (method === 'GET' && path === 'v2.0/.well-known/openid-configuration') {
      json(res, 200, openidConfiguration(tenant))
      return
    }
    if (method === 'GET' && path === 'discovery/v2.0/keys') {
      json(res, 200, { keys: [{ ...(await exportJWK(signing.publicKey)), kid, use: 'sig' }] })
      return
    }
    if (method === 'POST' && path === 'oauth2/v2.0/token') {
      const params = new URLSearchParams(body)
      const mode = state.mode
      switch (mode.kind) {
        case 'up':
          await issueToken(res, params, tenant)
          return
        case 'fail':
          failToken(res, mode.status, mode.error)
          return
        case 'hang':
          held.hang(res)
          return
        case 'slow':
          held.later(res, mode.delayMs, () => void issueToken(res, params, tenant))
          return
      }
    }
    json(res, 404, { error: 'not_found', error_description: `no route ${method} ${url.pathname}` })
  }

  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', origin)
      const method = req.method ?? ''
      const body = Buffer.concat(chunks).toString('utf8')
      state.requests.push({
        method,
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
      })
      if (method === 'POST' && url.pathname.endsWith('/oauth2/v2.0/token')) {
        const params = new URLSearchParams(body)
        state.tokenRequests.push({
          tenant: url.pathname.split('/')[1] ?? '',
          clientId: params.get('client_id'),
          grantType: params.get('grant_type'),
          scope: params.get('scope'),
          clientAuth: params.has('client_secret')
            ? 'secret'
            : params.has('client_assertion')
              ? 'assertion'
              : 'none',
          params,
          headers: req.headers,
        })
      }
      route(res, method, url, body).catch((error: unknown) => {
        if (!res.headersSent)
          json(res, 500, { error: 'server_error', error_description: String(error) })
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`

  const state: TokenEndpointStandIn = {
    authorityHost: origin,
    tenantId,
    clientId,
    clientSecret,
    tokenUrl: `${origin}/${tenantId}/oauth2/v2.0/token`,
    mode: { kind: 'up' },
    expiresInSeconds: options.expiresInSeconds ?? 3599,
    get hits() {
      return state.tokenRequests.length
    },
    tokenRequests: [],
    requests: [],
    get scopes() {
      return state.tokenRequests.map((r) => r.scope)
    },
    issued: [],
    addClient(client) {
      clients.set(client.clientId, client)
    },
    async verifyAccessToken(token, audience = GRAPH_RESOURCE) {
      try {
        const { payload } = await jwtVerify(token, signing.publicKey, {
          issuer: `https://sts.windows.net/${tenantId}/`,
          audience,
          algorithms: ['ES256'],
        })
        return { ok: true, claims: payload as AccessTokenClaims }
      } catch (error) {
        return { ok: false, reason: error instanceof Error ? error.message : String(error) }
      }
    },
    reset() {
      state.mode = { kind: 'up' }
      state.tokenRequests.length = 0
      state.requests.length = 0
    },
    close() {
      held.close()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
  return state
}

/** Why a client assertion is refused, or undefined when it is acceptable. */
async function checkAssertion(
  assertion: string,
  params: URLSearchParams,
  client: TokenClient,
  authority: string,
): Promise<string | undefined> {
  if (params.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE) return 'wrong type'
  let header: ReturnType<typeof decodeProtectedHeader>
  let claims: JWTPayload
  try {
    header = decodeProtectedHeader(assertion)
    claims = decodeJwt(assertion)
  } catch {
    return 'not a JWT'
  }
  if (claims.iss !== client.clientId || claims.sub !== client.clientId)
    return 'iss and sub must be the client_id'
  const audiences = [claims.aud].flat()
  if (!audiences.some((aud) => aud?.startsWith(authority))) return `aud is not ${authority}/…`
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return 'expired'
  if (client.certificate === undefined) return undefined
  const cert = new X509Certificate(client.certificate)
  const thumbprint = createHash('sha256').update(cert.raw).digest('base64url')
  const thumbprintSha1 = createHash('sha1').update(cert.raw).digest('base64url')
  if (header['x5t#S256'] !== thumbprint && header.x5t !== thumbprintSha1) {
    return 'no key of this application has that thumbprint'
  }
  try {
    const key = await importX509(client.certificate, header.alg ?? 'RS256')
    await jwtVerify(assertion, key, { clockTolerance: 300 }) // AAD allows 5 minutes' skew
    return undefined
  } catch (error) {
    return `signature: ${error instanceof Error ? error.message : String(error)}`
  }
}
