// OnPasswordSubmit's private keys, whatever they came from (a PEM or PFX file, a Key Vault
// certificate), with the identifiers a JWE header may name them by: the certificate's SHA-1 and
// SHA-256 thumbprints (`x5t`, `x5t#S256`, and as hex for a `kid`). With two keys during a
// rotation, the one the header names is tried first; a key without a certificate is tried in turn.
// PKCS#12 (PFX) is read with node-forge (Node's crypto cannot), loaded only when a PFX is given.
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { createRequire } from 'node:module'
import { decodeProtectedHeader } from 'jose'
import type NodeForge from 'node-forge'

export interface DecryptionKey {
  readonly key: KeyObject
  /** What a JWE header's kid / x5t / x5t#S256 may hold for this key; empty without a certificate. */
  readonly ids: readonly string[]
  /** SHA-1 thumbprint of its certificate (hex, upper case), for logs and health; else undefined. */
  readonly thumbprint: string | undefined
}

export class KeyProblem extends Error {
  override readonly name = 'KeyProblem'
}

/** Only RSA keys of 2048 bits or more decrypt RSA-OAEP contexts worth having. */
function checkedRsa(key: KeyObject): KeyObject {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048)
    throw new KeyProblem('must be an RSA private key of 2048 bits or more')
  return key
}

/** The key, with its certificate's identifiers when the certificate is known. */
export function decryptionKey(key: KeyObject, certificateDer: Buffer | undefined): DecryptionKey {
  checkedRsa(key)
  if (certificateDer === undefined) return { key, ids: [], thumbprint: undefined }
  const sha1 = createHash('sha1').update(certificateDer).digest()
  const sha256 = createHash('sha256').update(certificateDer).digest()
  const hex = sha1.toString('hex').toUpperCase()
  return {
    key,
    thumbprint: hex,
    ids: [
      sha1.toString('base64url'),
      sha256.toString('base64url'),
      hex,
      sha256.toString('hex').toUpperCase(),
    ],
  }
}

/** The first certificate of a PEM text whose public key is `key`'s, as DER. */
function certificateFor(pem: string, key: KeyObject): Buffer | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  for (const block of blocks) {
    try {
      const certificate = new X509Certificate(block)
      if (certificate.checkPrivateKey(key)) return certificate.raw
    } catch {
      // not a certificate we can read: the key is still usable without its identifiers
    }
  }
  return undefined
}

/** A PEM private key (PKCS#8 or PKCS#1, encrypted with `passphrase` or not), with any certificate. */
export function keyFromPem(pem: string, passphrase: string | undefined): DecryptionKey {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) })
  } catch {
    throw new KeyProblem(
      passphrase === undefined && pem.includes('ENCRYPTED')
        ? 'passphrase required'
        : 'is not a readable RSA private key (or the passphrase is wrong)',
    )
  }
  return decryptionKey(checkedRsa(key), certificateFor(pem, key))
}

// The PKCS#12 bag types (RFC 7292 §4.2).
const KEY_BAG = '1.2.840.113549.1.12.10.1.1'
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2'
const CERT_BAG = '1.2.840.113549.1.12.10.1.3'

type Forge = typeof NodeForge
let forge: Forge | undefined
const loadForge = (): Forge => (forge ??= createRequire(import.meta.url)('node-forge') as Forge)

/** A PKCS#12 (PFX) file: its private key and the certificate that goes with it. */
export function keyFromPfx(bytes: Buffer, passphrase: string | undefined): DecryptionKey {
  const f = loadForge()
  // Without a passphrase: an empty one (openssl -passout pass:) or none at all (Key Vault).
  const passphrases = passphrase === undefined ? ['', null] : [passphrase]
  let p12: ReturnType<Forge['pkcs12']['pkcs12FromAsn1']> | undefined
  for (const candidate of passphrases) {
    try {
      const asn1 = f.asn1.fromDer(f.util.createBuffer(bytes.toString('binary')))
      // null is forge's "no password at all"; its types only say string.
      p12 = f.pkcs12.pkcs12FromAsn1(asn1, true, candidate as string)
      break
    } catch {
      // the next candidate, if any
    }
  }
  if (p12 === undefined)
    throw new KeyProblem(
      'is neither a PEM private key nor a readable PFX (or the passphrase is wrong)',
    )
  const bags = [
    ...(p12.getBags({ bagType: SHROUDED_KEY_BAG })[SHROUDED_KEY_BAG] ?? []),
    ...(p12.getBags({ bagType: KEY_BAG })[KEY_BAG] ?? []),
  ]
  const forgeKey = bags.find((bag) => bag.key !== undefined)?.key
  if (forgeKey === undefined) throw new KeyProblem('holds no private key')
  let key: KeyObject
  try {
    key = createPrivateKey(f.pki.privateKeyToPem(forgeKey))
  } catch {
    throw new KeyProblem('holds a private key that is not RSA')
  }
  const certificates = (p12.getBags({ bagType: CERT_BAG })[CERT_BAG] ?? []).flatMap((bag) =>
    bag.cert === undefined ? [] : [f.pki.certificateToPem(bag.cert)],
  )
  return decryptionKey(checkedRsa(key), certificateFor(certificates.join('\n'), key))
}

/** The keys in the order to try them for this JWE: those its header names first. */
export function keysFor(jwe: string, keys: readonly DecryptionKey[]): readonly DecryptionKey[] {
  if (keys.length < 2) return keys
  let named: string[]
  try {
    const header = decodeProtectedHeader(jwe)
    named = [header.kid, header.x5t, header['x5t#S256']].filter(
      (value): value is string => typeof value === 'string',
    )
  } catch {
    return keys // the decryption refuses it, with the one fixed answer
  }
  const matches = (key: DecryptionKey) =>
    named.some((id) => key.ids.includes(id) || key.ids.includes(id.toUpperCase()))
  return [...keys.filter(matches), ...keys.filter((key) => !matches(key))]
}
