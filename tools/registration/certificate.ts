// The certificate OnPasswordSubmit's extension app holds for Entra to encrypt to (contract §6b):
// read from the operator's file for `register --certificate`, compared by thumbprint with what the
// app holds, and (doctor) with the endpoint's own key. Node's X509Certificate reads it; only the
// public part ever leaves this module.
import { createHash, createPublicKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'

export interface EncryptionCertificate {
  /** Base64 of the DER certificate: keyCredential.key. */
  readonly derBase64: string
  /** SHA-1 of the DER, upper-case hex: what the portal shows. */
  readonly thumbprint: string
  /** The same 20 bytes as base64: keyCredential.customKeyIdentifier (Edm.Binary). */
  readonly customKeyIdentifier: string
  readonly subject: string
  readonly notBefore: Date
  readonly notAfter: Date
  /** Base64 of the public key's SubjectPublicKeyInfo DER, to compare with a private key's. */
  readonly publicKeySpki: string
}

export class CertificateError extends Error {
  override readonly name = 'CertificateError'
}

export function certificateOf(der: Buffer): EncryptionCertificate {
  const cert = new X509Certificate(der)
  const digest = createHash('sha1').update(der).digest()
  return {
    derBase64: der.toString('base64'),
    thumbprint: digest.toString('hex').toUpperCase(),
    customKeyIdentifier: digest.toString('base64'),
    subject: cert.subject.replace(/\n/g, ', '),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    publicKeySpki: cert.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  }
}

const PEM = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g

/** The blocks of a PEM file, by label. */
function pemBlocks(text: string): { label: string; der: Buffer }[] {
  return [...text.matchAll(PEM)].map((m) => ({
    label: m[1] ?? '',
    der: Buffer.from((m[2] ?? '').replace(/\s+/g, ''), 'base64'),
  }))
}

/**
 * `--certificate <file>`: a PEM (or DER) X.509 certificate; with a chain, the first one. Graph
 * takes a certificate (keyCredential type AsymmetricX509Cert), not a bare key: a PEM public or
 * private key is refused with how to make a certificate from it.
 */
export function readCertificateFile(path: string): EncryptionCertificate {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch {
    throw new CertificateError(`${path}: file not found or not readable`)
  }
  const blocks = pemBlocks(bytes.toString('latin1'))
  const cert = blocks.find((b) => b.label === 'CERTIFICATE')
  try {
    if (cert !== undefined) return certificateOf(cert.der)
    if (blocks.length === 0) return certificateOf(bytes)
  } catch {
    throw new CertificateError(`${path}: not a readable X.509 certificate`)
  }
  const labels = blocks.map((b) => b.label).join(', ')
  throw new CertificateError(
    `${path}: holds ${labels}, not a certificate. Entra takes the public part as an X.509 certificate (keyCredential type AsymmetricX509Cert): make one from the endpoint's private key, e.g. openssl req -x509 -new -key <private key.pem> -subj "/CN=password migration" -days 365 -out cert.pem, and pass that file.`,
  )
}

/**
 * The public key of the endpoint's own key file (PASSWORD_DECRYPTION_KEY_PATH, or doctor's
 * --certificate): a certificate, a public key or a private key in PEM. Base64 SPKI DER, or a
 * reason it could not be read (a PFX is not read here: pass its certificate instead).
 */
export function localPublicKey(path: string): { spki: string; thumbprint?: string } | string {
  let text: string
  try {
    text = readFileSync(path, 'latin1')
  } catch {
    return `${path}: file not found or not readable`
  }
  const blocks = pemBlocks(text)
  try {
    const cert = blocks.find((b) => b.label === 'CERTIFICATE')
    if (cert !== undefined) {
      const read = certificateOf(cert.der)
      return { spki: read.publicKeySpki, thumbprint: read.thumbprint }
    }
    const key = blocks.find(
      (b) => b.label.endsWith('PRIVATE KEY') || b.label.endsWith('PUBLIC KEY'),
    )
    if (key === undefined)
      return `${path}: no PEM certificate or key in it (for a PFX, pass its certificate with --certificate)`
    const pem = text.slice(text.indexOf(`-----BEGIN ${key.label}-----`))
    return {
      spki: createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64'),
    }
  } catch {
    return `${path}: the certificate or key in it could not be read`
  }
}
