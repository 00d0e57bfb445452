// Certificates for OnPasswordSubmit's registration tests: an RSA key and a self-signed
// certificate for it (made with @peculiar/x509, as the test CA is), written to a temporary folder
// as PEM, valid for `days` from now (negative: expired).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { webcrypto } from 'node:crypto'
import {
  readCertificateFile,
  type EncryptionCertificate,
} from '../../tools/registration/certificate.js'

export interface TestCertificate {
  readonly certificate: EncryptionCertificate
  /** The PEM certificate's file. */
  readonly certPath: string
  /** The PEM PKCS#8 private key's file (what PASSWORD_DECRYPTION_KEY_PATH names). */
  readonly keyPath: string
}

const made = new Map<number, Promise<TestCertificate>>()

export function encryptionCertificate(days = 365): Promise<TestCertificate> {
  let found = made.get(days)
  if (found === undefined) {
    found = make(days)
    made.set(days, found)
  }
  return found
}

async function make(days: number): Promise<TestCertificate> {
  await import('reflect-metadata')
  const x509 = await import('@peculiar/x509')
  x509.cryptoProvider.set(webcrypto)
  const algorithm = {
    name: 'RSASSA-PKCS1-v1_5',
    hash: 'SHA-256',
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  }
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: (now % 1_000_000).toString(16).padStart(2, '0'),
    name: 'CN=password migration (test)',
    notBefore: new Date(now - Math.max(1, -days + 1) * 86_400_000),
    notAfter: new Date(now + days * 86_400_000),
    keys,
    signingAlgorithm: algorithm,
  })
  const folder = mkdtempSync(join(tmpdir(), 'register-cert-'))
  const certPath = join(folder, 'cert.pem')
  const keyPath = join(folder, 'key.pem')
  writeFileSync(certPath, cert.toString('pem'))
  writeFileSync(
    keyPath,
    x509.PemConverter.encode(
      await webcrypto.subtle.exportKey('pkcs8', keys.privateKey),
      'PRIVATE KEY',
    ),
  )
  return { certificate: readCertificateFile(certPath), certPath, keyPath }
}
