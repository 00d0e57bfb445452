// The Graph identity of `npm run insights`, from the same variables the endpoint reads
// (config.ts readGraphCredential): a client secret or certificate when AZURE_CLIENT_SECRET or
// AZURE_CLIENT_CERTIFICATE_PATH is set, else DefaultAzureCredential (an operator's `az login`,
// environment, managed identity…) rather than the endpoint's managed identity alone.
import { DefaultAzureCredential } from '@azure/identity'
import type { GraphCredentialConfig } from '../config.js'
import { createTokenSource, type AccessTokenSource } from '../outbound/access-token.js'
import { isHttpsUrl } from '../secure-url.js'
import { createGraphTokenSource } from '../sources/graph-credential.js'

export type InsightsCredential =
  | Exclude<GraphCredentialConfig, { kind: 'managedIdentity' }>
  | { readonly kind: 'default'; readonly tenantId: string | undefined }

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const blank = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value

/** The credential the variables describe, or what is wrong with them. */
export function readInsightsCredential(
  env: Readonly<Record<string, string | undefined>>,
): InsightsCredential | string {
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

export function insightsTokenSource(
  credential: InsightsCredential,
  graphBaseUrl: string,
): AccessTokenSource {
  if (credential.kind !== 'default') return createGraphTokenSource(credential, graphBaseUrl)
  return createTokenSource(
    () =>
      new DefaultAzureCredential(
        credential.tenantId === undefined ? {} : { tenantId: credential.tenantId },
      ),
    `${new URL(graphBaseUrl).origin}/.default`,
  )
}
