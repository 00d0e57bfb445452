// The identity the endpoint calls Microsoft Graph as: a client secret or certificate when the
// standard AZURE_* variables name one (local runs, other hosts), else the Function App's managed
// identity (AZURE_CLIENT_ID selects a user-assigned one). Tokens are for "<graph origin>/.default".
// @azure/identity is imported when the credential is first made (src/lazy.ts).
import type { TokenCredential } from '@azure/identity'
import type { GraphCredentialConfig } from '../config.js'
import { createTokenSource, type AccessTokenSource } from '../outbound/access-token.js'

export function createGraphTokenSource(
  credential: GraphCredentialConfig,
  graphBaseUrl: string,
): AccessTokenSource {
  return createTokenSource(
    () => makeCredential(credential),
    `${new URL(graphBaseUrl).origin}/.default`,
  )
}

/** The @azure/identity credential `config` describes (the operator CLIs share it across scopes). */
export async function makeCredential(config: GraphCredentialConfig): Promise<TokenCredential> {
  const { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } =
    await import('@azure/identity')
  // A custom authority (a national cloud, a test stand-in) is trusted as configured: MSAL's
  // instance discovery would otherwise ask login.microsoftonline.com about it first.
  // No retries inside the credential: by default a 5xx from the token endpoint is retried 3
  // times over ~5 s, past any sign-in budget. A failed token fetch fails this call's source (its
  // policy applies); the next call tries again.
  const authority = {
    retryOptions: { maxRetries: 0 },
    ...(config.kind !== 'managedIdentity' && config.authorityHost !== undefined
      ? { authorityHost: config.authorityHost, disableInstanceDiscovery: true }
      : {}),
  }
  switch (config.kind) {
    case 'clientSecret':
      return new ClientSecretCredential(config.tenantId, config.clientId, config.secret, authority)
    case 'clientCertificate':
      return new ClientCertificateCredential(
        config.tenantId,
        config.clientId,
        { certificatePath: config.certificatePath },
        authority,
      )
    case 'managedIdentity':
      return config.clientId === undefined
        ? new ManagedIdentityCredential()
        : new ManagedIdentityCredential({ clientId: config.clientId })
  }
}
