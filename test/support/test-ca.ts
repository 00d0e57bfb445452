// A throw-away certificate authority for the loopback HTTPS stand-ins (token endpoint, Graph).
// Nothing here is committed: the keys are made when the tests start and die with them.
//
// How the clients come to trust it, with no test-only option in src/:
// - Node reads NODE_EXTRA_CA_CERTS once, when a process starts, and adds that file's
//   certificates to the default trust store used by every TLS client in the process: undici (the
//   global fetch) and node:https (which @azure/core-rest-pipeline, and so MSAL inside
//   @azure/identity, uses). Setting it later, inside a test, does nothing.
// - So the CA must exist before the test processes do. vitest.config.ts names
//   test/support/global-setup.ts as a globalSetup: vitest runs it in its main process before it
//   forks any worker, and vitest 4 builds each worker's environment from the main process's
//   process.env at that moment. The setup makes the CA and a server certificate (createTestTls),
//   writes them to a temporary folder, and sets NODE_EXTRA_CA_CERTS (the CA, appended to any
//   bundle already configured) and TEST_TLS_FILE (all three PEMs, for the stand-ins to serve).
//   It needs the `forks` pool (the default, pinned in vitest.config.ts): worker threads share the
//   main process's trust store, which was fixed before the CA existed.
// - A worker then reads the PEMs from TEST_TLS_FILE (testTls()), so every worker serves the one
//   certificate its own trust store accepts. Child processes a test spawns inherit both variables
//   when it passes process.env on (or tlsEnv()), and trust the stand-ins too.
import { readFileSync } from 'node:fs'
import { webcrypto } from 'node:crypto'

/** PEMs: the CA certificate, and the server certificate it signed with that certificate's key. */
export interface TestTls {
  /** The CA certificate: what NODE_EXTRA_CA_CERTS holds. */
  readonly caCert: string
  /** For localhost, 127.0.0.1 and ::1, signed by the CA. */
  readonly cert: string
  /** The server certificate's private key (PKCS#8). */
  readonly key: string
}

/** Where global-setup.ts writes the TestTls JSON for the workers. */
export const TEST_TLS_FILE = 'TEST_TLS_FILE'

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const HOUR = 3600_000

async function x509() {
  // @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
  await import('reflect-metadata')
  const lib = await import('@peculiar/x509')
  lib.cryptoProvider.set(webcrypto)
  return lib
}

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const { PemConverter } = await x509()
  return PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')
}

/** A fresh CA and a server certificate for localhost, 127.0.0.1 and ::1 (valid for a day). */
export async function createTestTls(): Promise<TestTls> {
  const x = await x509()
  const notBefore = new Date(Date.now() - HOUR) // room for clock skew
  const notAfter = new Date(Date.now() + 24 * HOUR)
  const usages: webcrypto.KeyUsage[] = ['sign', 'verify']

  const caKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, usages)
  const caName = 'CN=entra-auth-extension test CA'
  const ca = await x.X509CertificateGenerator.createSelfSigned({
    name: caName,
    keys: caKeys,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x.BasicConstraintsExtension(true, 0, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign, true),
      await x.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })

  const serverKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, usages)
  const server = await x.X509CertificateGenerator.create({
    subject: 'CN=localhost',
    issuer: caName,
    notBefore,
    notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true),
      new x.ExtendedKeyUsageExtension([x.ExtendedKeyUsage.serverAuth]),
      new x.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
        { type: 'ip', value: '::1' },
      ]),
      await x.SubjectKeyIdentifierExtension.create(serverKeys.publicKey),
      await x.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })

  return {
    caCert: ca.toString('pem'),
    cert: server.toString('pem'),
    key: await pkcs8Pem(serverKeys.privateKey),
  }
}

let memo: Promise<TestTls> | undefined

/**
 * This process's TLS material, made or read once. Under vitest it is what global-setup.ts wrote
 * (TEST_TLS_FILE), which this process trusts through NODE_EXTRA_CA_CERTS. Elsewhere it is made
 * here, and clients trust it only when given `caCert` explicitly.
 */
export function testTls(): Promise<TestTls> {
  memo ??= (async () => {
    const file = process.env[TEST_TLS_FILE]
    if (file === undefined || file === '') return createTestTls()
    return JSON.parse(readFileSync(file, 'utf8')) as TestTls
  })()
  return memo
}

/** The variables a child process needs to trust, and serve, the test CA's certificates. */
export function tlsEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of ['NODE_EXTRA_CA_CERTS', TEST_TLS_FILE]) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  return env
}

/** A client certificate for ClientCertificateCredential: self-signed RSA (MSAL signs with RSA). */
export interface ClientCertificate {
  /** The certificate alone: what an app registration holds. */
  readonly certificate: string
  readonly privateKey: string
  /** Key and certificate together: what ClientCertificateCredential reads. */
  readonly pem: string
}

let clientMemo: Promise<ClientCertificate> | undefined

/** One RSA client certificate per process (made on first use: RSA keys take a moment). */
export function clientCertificate(): Promise<ClientCertificate> {
  clientMemo ??= (async () => {
    const x = await x509()
    const algorithm = {
      name: 'RSASSA-PKCS1-v1_5',
      hash: 'SHA-256',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
    }
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
    const cert = await x.X509CertificateGenerator.createSelfSigned({
      name: 'CN=entra-auth-extension test client',
      keys,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + 24 * HOUR),
      signingAlgorithm: algorithm,
      extensions: [new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true)],
    })
    const certificate = cert.toString('pem')
    const privateKey = await pkcs8Pem(keys.privateKey)
    return { certificate, privateKey, pem: `${privateKey}\n${certificate}\n` }
  })()
  return clientMemo
}
