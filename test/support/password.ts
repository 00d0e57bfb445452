// OnPasswordSubmit's test material, made at test time (never committed): an RSA key in a PEM file,
// a hashes file, and contexts encrypted to the key as Entra would encrypt them.
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  type KeyObject,
} from 'node:crypto'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import {
  encryptPasswordContext,
  type EncryptOptions,
} from '../../src/passwords/password-context.js'

function scratch(name: string): string {
  const parent = process.env.TEST_TMP_DIR ?? tmpdir()
  mkdirSync(parent, { recursive: true })
  return join(mkdtempSync(join(parent, 'password-')), name)
}

export interface PasswordKey {
  /** The PKCS#8 PEM file of the private key. */
  readonly path: string
  readonly publicKey: KeyObject
  encrypt(
    context: { username: string; password: string; nonce?: string },
    options?: EncryptOptions,
  ): Promise<string>
}

export function writePasswordKey(
  options: { modulusLength?: number; passphrase?: string } = {},
): PasswordKey {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: options.modulusLength ?? 2048,
  })
  const pem = privateKey.export({
    type: 'pkcs8',
    format: 'pem',
    ...(options.passphrase === undefined
      ? {}
      : { cipher: 'aes-256-cbc', passphrase: options.passphrase }),
  })
  const path = scratch('key.pem')
  writeFileSync(path, pem)
  const publicKey = createPublicKey(privateKey)
  return {
    path,
    publicKey,
    encrypt: (context, encryptOptions) =>
      encryptPasswordContext({ nonce: randomUUID(), ...context }, publicKey, encryptOptions),
  }
}

/** A PASSWORD_HASHES_FILE of these lines (objects are written as JSON, strings as they are). */
export function writeHashesFile(lines: readonly (string | object)[]): string {
  const path = scratch('hashes.jsonl')
  writeFileSync(
    path,
    lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n'),
  )
  return path
}

/** A key with a self-signed certificate, as PEM (key and certificate) and as PFX. */
export interface CertifiedKey extends PasswordKey {
  /** The private key (PKCS#8) followed by the certificate, as Key Vault serves a PEM secret. */
  readonly pem: string
  /** x5t: the base64url SHA-1 thumbprint of the certificate. */
  readonly x5t: string
  /** PKCS#12 (PFX) of the key and certificate, encrypted with `passphrase` ('' for none). */
  pfx(passphrase: string): Buffer
}

export function makeCertifiedKey(): CertifiedKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const publicKey = createPublicKey(privateKey)
  const forgeKey = forge.pki.privateKeyFromPem(keyPem)
  const certificate = forge.pki.createCertificate()
  certificate.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e)
  certificate.serialNumber = `01${randomUUID().replaceAll('-', '').slice(0, 16)}`
  certificate.validity.notBefore = new Date(Date.now() - 60_000)
  certificate.validity.notAfter = new Date(Date.now() + 86_400_000)
  const subject = [{ name: 'commonName', value: 'password-migration-test' }]
  certificate.setSubject(subject)
  certificate.setIssuer(subject)
  certificate.sign(forgeKey, forge.md.sha256.create())
  const certificatePem = forge.pki.certificateToPem(certificate)
  const der = Buffer.from(
    forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes(),
    'binary',
  )
  const pem = `${keyPem}${certificatePem}`
  const path = scratch('key-and-certificate.pem')
  writeFileSync(path, pem)
  return {
    path,
    publicKey,
    pem,
    x5t: createHash('sha1').update(der).digest('base64url'),
    pfx(passphrase) {
      const asn1 = forge.pkcs12.toPkcs12Asn1(
        forgeKey,
        [certificate],
        passphrase === '' ? null : passphrase,
        {
          algorithm: 'aes256',
        },
      )
      return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary')
    },
    encrypt: (context, encryptOptions) =>
      encryptPasswordContext({ nonce: randomUUID(), ...context }, publicKey, encryptOptions),
  }
}

/** A PFX file of that key (PASSWORD_DECRYPTION_KEY_PATH). */
export function writePfx(key: CertifiedKey, passphrase: string): string {
  const path = scratch('key.pfx')
  writeFileSync(path, key.pfx(passphrase))
  return path
}
