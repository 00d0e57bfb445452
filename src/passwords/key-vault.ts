// OnPasswordSubmit's key from a Key Vault certificate (PASSWORD_DECRYPTION_KEY_VAULT_URL,
// PASSWORD_DECRYPTION_CERT_NAME), read with the managed identity through @azure/keyvault-secrets:
// a certificate's private key is the secret of the same name, a PEM (private key and certificate)
// or a base64 PFX without a password, as its contentType says. Read once at start, cached for the
// process's life; a failed read is tried again later. @azure/keyvault-secrets and @azure/identity
// are imported only when a vault is configured.
import { LOOPBACK_HOSTS } from '../secure-url.js'
import { keyFromPem, keyFromPfx, type DecryptionKey } from './decryption-keys.js'
import type { KeyVaultSettings } from './migration.js'

const PFX = 'application/x-pkcs12'
const PEM = 'application/x-pem-file'

export class KeyVaultKeyError extends Error {
  override readonly name = 'KeyVaultKeyError'
}

export async function readKeyVaultKeys(
  settings: KeyVaultSettings,
  signal: AbortSignal,
): Promise<DecryptionKey[]> {
  const [{ SecretClient }, { ManagedIdentityCredential }] = await Promise.all([
    import('@azure/keyvault-secrets'),
    import('@azure/identity'),
  ])
  const credential =
    settings.clientId === undefined
      ? new ManagedIdentityCredential()
      : new ManagedIdentityCredential({ clientId: settings.clientId })
  const client = new SecretClient(settings.vaultUrl, credential, {
    retryOptions: { maxRetries: 1 },
    // The challenge's resource (vault.azure.net) cannot be a parent domain of a loopback host: a
    // stand-in on 127.0.0.1 is the only vault allowed to skip that check.
    disableChallengeResourceVerification: LOOPBACK_HOSTS.has(new URL(settings.vaultUrl).hostname),
  })
  const keys: DecryptionKey[] = []
  for (const name of settings.certificateNames) {
    const secret = await client.getSecret(name, { abortSignal: signal })
    const value = secret.value
    if (value === undefined) throw new KeyVaultKeyError(`the secret of ${name} has no value`)
    const type = secret.properties.contentType
    if (type === PFX) keys.push(keyFromPfx(Buffer.from(value, 'base64'), undefined))
    else if (type === PEM || value.includes('-----BEGIN')) keys.push(keyFromPem(value, undefined))
    else throw new KeyVaultKeyError(`the secret of ${name} is neither a PEM nor a PFX (${PFX})`)
  }
  return keys
}
