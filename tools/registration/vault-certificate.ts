// doctor's view of OnPasswordSubmit's key when it lives in Key Vault
// (PASSWORD_DECRYPTION_KEY_VAULT_URL, PASSWORD_DECRYPTION_CERT_NAME): the certificate's public
// part, read with the operator's own credential through @azure/keyvault-certificates'
// getCertificate. That needs certificates/get (the Key Vault Certificate User role), never the
// private key, which is the secret of the same name (what the endpoint reads with its managed
// identity, src/passwords/key-vault.ts). A failure becomes a reason and a fix, never a stack
// trace. @azure/keyvault-certificates is imported only when a vault is read.
import type { TokenCredential } from '@azure/identity'
import { LOOPBACK_HOSTS } from '../../src/secure-url.js'
import { certificateOf } from './certificate.js'

/** The public key (base64 SPKI) of the vault's certificate, and where it was read. */
export interface VaultPublicKey {
  readonly spki: string
  readonly thumbprint: string
  readonly source: string
}

/** Why the certificate could not be read, and what to do about it. */
export interface VaultReadProblem {
  readonly problem: string
  readonly fix: string
}

const PERMISSION =
  "Give the identity doctor signs in as the Key Vault Certificate User role on the vault (Azure RBAC), or certificates/get in the vault's access policy: doctor reads only the certificate's public part, not its private key."

function firstLine(text: string): string {
  return (text.split(/\r?\n/)[0] ?? '').slice(0, 240)
}

function describe(err: unknown, where: string): VaultReadProblem {
  const error = err instanceof Error ? err : new Error(String(err))
  const status = 'statusCode' in error ? (error.statusCode as number | undefined) : undefined
  if (status === 403)
    return {
      problem: `${where} could not be read: Key Vault answered 403 Forbidden (the signed-in identity may not read certificates)`,
      fix: PERMISSION,
    }
  if (status === 404)
    return {
      problem: `${where} could not be read: Key Vault answered 404 (no certificate of that name)`,
      fix: 'Check PASSWORD_DECRYPTION_CERT_NAME and PASSWORD_DECRYPTION_KEY_VAULT_URL: they are the settings the endpoint uses.',
    }
  if (status === 401)
    return {
      problem: `${where} could not be read: Key Vault answered 401 (it refused the signed-in identity's token: another tenant?)`,
      fix: `Sign in to the vault's tenant. ${PERMISSION}`,
    }
  if (status !== undefined)
    return {
      problem: `${where} could not be read: Key Vault answered ${status} (${firstLine(error.message)})`,
      fix: 'Run doctor again later; if it persists, check the vault in the Azure portal.',
    }
  if (
    error.name === 'AuthenticationError' ||
    error.name === 'AggregateAuthenticationError' ||
    error.name === 'CredentialUnavailableError'
  )
    return {
      problem: `${where} could not be read: no access token for Key Vault (${firstLine(error.message)})`,
      fix: `Sign in as an identity that may read the vault. ${PERMISSION}`,
    }
  return {
    problem: `${where} could not be read: the vault did not answer (${error.name === 'AbortError' ? 'timed out' : firstLine(error.message)})`,
    fix: "Check PASSWORD_DECRYPTION_KEY_VAULT_URL, and that this machine reaches the vault (its firewall may allow only the Function App's network).",
  }
}

/**
 * The public key of the certificate `name` in the vault at `vaultUrl`, or why it could not be
 * read. Its newest version, as the endpoint reads the secret's newest version.
 */
export async function readVaultPublicKey(
  vaultUrl: string,
  name: string,
  credential: TokenCredential,
  timeoutMs = 60_000,
): Promise<VaultPublicKey | VaultReadProblem> {
  const where = `Key Vault certificate ${name} in ${vaultUrl}`
  try {
    const { CertificateClient } = await import('@azure/keyvault-certificates')
    const client = new CertificateClient(vaultUrl, credential, {
      retryOptions: { maxRetries: 1 },
      // The challenge's resource (vault.azure.net) cannot be a parent domain of a loopback host: a
      // stand-in on 127.0.0.1 is the only vault allowed to skip that check (as key-vault.ts does).
      disableChallengeResourceVerification: LOOPBACK_HOSTS.has(new URL(vaultUrl).hostname),
    })
    const certificate = await client.getCertificate(name, {
      abortSignal: AbortSignal.timeout(timeoutMs),
    })
    if (certificate.cer === undefined || certificate.cer.length === 0)
      return {
        problem: `${where} has no certificate (cer) yet: is its creation still pending?`,
        fix: 'Complete the certificate in Key Vault (or merge its signed certificate), then run doctor again.',
      }
    let read: ReturnType<typeof certificateOf>
    try {
      read = certificateOf(Buffer.from(certificate.cer))
    } catch {
      return {
        problem: `${where}: its cer is not a readable X.509 certificate`,
        fix: 'Check the certificate in the Azure portal.',
      }
    }
    return { spki: read.publicKeySpki, thumbprint: read.thumbprint, source: where }
  } catch (err) {
    return describe(err, where)
  }
}
