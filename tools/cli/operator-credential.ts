// The Graph identity of the operator CLIs (`register`, `doctor`, `insights`), from the same
// variables the endpoint reads (config.ts readGraphCredential): a client secret or certificate
// when AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH is set, else DefaultAzureCredential
// (an operator's `az login`, environment, managed identity…) and, when a person is at the
// terminal, the device code flow after it (the prompt goes to stderr).
import {
  ChainedTokenCredential,
  DefaultAzureCredential,
  DeviceCodeCredential,
  type TokenCredential,
} from '@azure/identity'
import type { GraphCredentialConfig } from '../../src/config.js'
import { createTokenSource, type AccessTokenSource } from '../../src/outbound/access-token.js'
import { createGraphClient, type GraphClient, type GraphRetry } from '../graph/client.js'
import { GraphError } from '../graph/graph-error.js'
import { isHttpsUrl } from '../../src/secure-url.js'
import { makeCredential } from '../../src/sources/graph-credential.js'

export type OperatorCredential =
  | Exclude<GraphCredentialConfig, { kind: 'managedIdentity' }>
  | { readonly kind: 'default'; readonly tenantId: string | undefined }

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const blank = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value

/** The credential the variables describe, or what is wrong with them. */
export function readOperatorCredential(
  env: Readonly<Record<string, string | undefined>>,
): OperatorCredential | string {
  const tenantId = blank(env.AZURE_TENANT_ID) ?? blank(env.ENTRA_TENANT_ID)
  if (tenantId !== undefined && !GUID.test(tenantId))
    return 'AZURE_TENANT_ID (or ENTRA_TENANT_ID): must be a GUID'
  const authorityHost = blank(env.AZURE_AUTHORITY_HOST)
  if (authorityHost !== undefined && !isHttpsUrl(authorityHost))
    return 'AZURE_AUTHORITY_HOST: must be an https URL'
  const secret = blank(env.AZURE_CLIENT_SECRET)
  const certificatePath = blank(env.AZURE_CLIENT_CERTIFICATE_PATH)
  if (secret === undefined && certificatePath === undefined) return { kind: 'default', tenantId }
  if (secret !== undefined && certificatePath !== undefined)
    return 'AZURE_CLIENT_SECRET: set it or AZURE_CLIENT_CERTIFICATE_PATH, not both'
  const clientId = blank(env.AZURE_CLIENT_ID)
  const which = secret !== undefined ? 'AZURE_CLIENT_SECRET' : 'AZURE_CLIENT_CERTIFICATE_PATH'
  if (clientId === undefined) return `AZURE_CLIENT_ID: is required with ${which}`
  if (!GUID.test(clientId)) return 'AZURE_CLIENT_ID: must be a GUID'
  if (tenantId === undefined) return `AZURE_TENANT_ID: is required with ${which}`
  const common = { tenantId, clientId, authorityHost }
  return secret !== undefined
    ? { kind: 'clientSecret', secret, ...common }
    : { kind: 'clientCertificate', certificatePath: certificatePath ?? '', ...common }
}

const made = new WeakMap<OperatorCredential, Promise<TokenCredential>>()

/**
 * The @azure/identity credential of `credential`, made once per OperatorCredential object: Graph
 * and (doctor) Key Vault ask the same one for their own scopes, so a person signs in once. The
 * first call's `interactive` decides whether the device code flow is in the chain.
 */
export function operatorCredential(
  credential: OperatorCredential,
  interactive: boolean = process.stdin.isTTY === true && process.stderr.isTTY === true,
): Promise<TokenCredential> {
  let found = made.get(credential)
  if (found === undefined) {
    found = makeOperatorCredential(credential, interactive)
    made.set(credential, found)
  }
  return found
}

async function makeOperatorCredential(
  credential: OperatorCredential,
  interactive: boolean,
): Promise<TokenCredential> {
  if (credential.kind !== 'default') return makeCredential(credential)
  const tenant = credential.tenantId === undefined ? {} : { tenantId: credential.tenantId }
  const automatic = new DefaultAzureCredential(tenant)
  if (!interactive) return automatic
  // Tried only when DefaultAzureCredential finds nothing (no az login, no environment).
  const deviceCode = new DeviceCodeCredential({
    ...tenant,
    userPromptCallback: (info) => {
      process.stderr.write(`${info.message}\n`)
    },
  })
  return new ChainedTokenCredential(automatic, deviceCode)
}

export function operatorTokenSource(
  credential: OperatorCredential,
  graphBaseUrl: string,
  interactive: boolean = process.stdin.isTTY === true && process.stderr.isTTY === true,
): AccessTokenSource {
  return createTokenSource(
    () => operatorCredential(credential, interactive),
    `${new URL(graphBaseUrl).origin}/.default`,
  )
}

/**
 * The shared Graph client (tools/graph/client.ts) for an operator CLI, signed in as
 * `readOperatorCredential` says. A token may take a person's device-code sign-in, so it gets
 * minutes, not the endpoint's milliseconds. A SignInError reaches the caller unchanged; another
 * token failure is a GraphError (failure 'token').
 */
export function operatorGraphClient(
  credential: OperatorCredential,
  graphBaseUrl: string,
  onRetry?: (retry: GraphRetry) => void,
): GraphClient {
  return createGraphClient({
    baseUrl: graphBaseUrl,
    onRetry,
    getToken: operatorTokenGetter(
      credential,
      graphBaseUrl,
      (problem) => new GraphError({ failure: 'token', method: 'GET', path: '(token)', problem }),
    ),
  })
}

/** A retry as the operator CLIs print it on stderr. */
export function retryLine(retry: GraphRetry): string {
  return `${retry.method} ${retry.path}: ${retry.status}, retrying in ${(retry.waitMs / 1000).toFixed(1)} s\n`
}

/**
 * No credential of the chain could sign in: nobody ran `az login`, and no AZURE_* variables. The
 * CLIs exit 2 on it (a usage problem, like a missing flag), not 1 (Graph refused something).
 */
export class SignInError extends Error {
  override readonly name = 'SignInError'
}

/** The first line of each failure in a credential chain (nested chains flattened), in order. */
function chainReasons(err: unknown): { reasons: string[]; unavailable: boolean } {
  const reasons: string[] = []
  let unavailable = true
  const visit = (error: unknown): void => {
    const nested =
      error instanceof Error && 'errors' in error && Array.isArray(error.errors)
        ? (error.errors as unknown[])
        : undefined
    if (nested !== undefined && nested.length > 0) return nested.forEach(visit)
    if (!(error instanceof Error && error.name === 'CredentialUnavailableError'))
      unavailable = false
    const text = error instanceof Error ? error.message : String(error)
    reasons.push(
      (text.split('\n')[0] ?? '').replace(/^CredentialUnavailableError: /, '').slice(0, 240),
    )
  }
  visit(err)
  return { reasons, unavailable }
}

/**
 * A bearer-token getter for an operator CLI's Graph calls. A token may take a person's device-code
 * sign-in, so it gets minutes. When no credential of the chain was even available, the error is a
 * SignInError that lists what each one said and how to sign in; any other failure (a wrong secret,
 * a refused consent) becomes `toError("no Graph access token: <reasons>")`. @azure/identity's
 * messages name the failure, never the secret.
 */
export function operatorTokenGetter(
  credential: OperatorCredential,
  graphBaseUrl: string,
  toError: (message: string) => Error,
): () => Promise<string> {
  const tokens = operatorTokenSource(credential, graphBaseUrl)
  return async () => {
    try {
      return await tokens.getToken(AbortSignal.timeout(300_000), 300_000)
    } catch (err) {
      const cause = err instanceof Error && err.cause !== undefined ? err.cause : err
      const { reasons, unavailable } = chainReasons(cause)
      if (credential.kind === 'default' && unavailable) {
        const tenant = credential.tenantId ?? '<tenant id>'
        throw new SignInError(
          [
            'not signed in: no credential could get a Microsoft Graph token. What each one said:',
            ...reasons.map((reason) => `  - ${reason}`),
            `Sign in with: az login --tenant ${tenant} --allow-no-subscriptions`,
            '(or set AZURE_CLIENT_ID and AZURE_TENANT_ID with AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH), then run this again.',
          ].join('\n'),
        )
      }
      throw toError(`no Graph access token: ${reasons.join('; ').slice(0, 1200)}`)
    }
  }
}
