// OnPasswordSubmit's encryption certificate (contract §6b): the public part of the endpoint's
// certificate on the extension app, as a keyCredential (type AsymmetricX509Cert, usage Encrypt),
// and tokenEncryptionKeyId = that credential's keyId. A PATCH of keyCredentials replaces the whole
// collection: what the app holds (read with its keys, $select=keyCredentials) is written back
// with the new one appended. Only on an app register made: on an --extension-app it did not
// create, setting tokenEncryptionKeyId turns on token encryption (or changes its key) for every
// other piece of software that uses the app, so register plans a conflict that states the change
// to make by hand, and never replaces a tokenEncryptionKeyId there. Without a certificate given
// (doctor), it checks that one is there and how long it has left.
import { randomUUID } from 'node:crypto'
import type { EncryptionCertificate } from '../certificate.js'
import { isRegisterMadeApp, lower } from '../entra-objects.js'
import type { ApplicationBody, KeyCredentialBody, ReadKeyCredential } from '../graph-types.js'
import type { Change, PlanContext } from '../changes.js'
import type { AppPlan } from './extension-app.js'

const STEP = 'extension app encryption certificate'
const DAY = 86_400_000
/** Warn this long before the certificate expires. */
export const EXPIRY_WARNING_DAYS = 30

const isEncrypt = (k: ReadKeyCredential) => lower(k.usage) === 'encrypt'

/** The credential that holds `cert`, by thumbprint (customKeyIdentifier) or by its key. */
function holding(keys: readonly ReadKeyCredential[], cert: EncryptionCertificate) {
  return keys.find(
    (k) =>
      isEncrypt(k) &&
      (k.customKeyIdentifier === cert.customKeyIdentifier ||
        lower(k.customKeyIdentifier) === lower(cert.thumbprint) ||
        k.key === cert.derBase64),
  )
}

function expiry(ctx: PlanContext, key: ReadKeyCredential): Change[] {
  const end = Date.parse(key.endDateTime ?? '')
  if (Number.isNaN(end)) return []
  const left = end - ctx.tenant.readAt.getTime()
  if (left > EXPIRY_WARNING_DAYS * DAY) return []
  const expired = left <= 0
  return [
    {
      kind: 'leave-alone',
      step: STEP,
      object: 'keyCredential',
      detail: `certificate ${key.keyId ?? ''} ${expired ? 'expired' : 'expires'} ${key.endDateTime ?? ''}`,
      warning: `the encryption certificate (keyId ${key.keyId ?? ''}) ${expired ? 'expired' : 'expires'} on ${key.endDateTime ?? ''}: ${expired ? 'Entra cannot encrypt to it, and migrating sign-ins fail' : `within ${EXPIRY_WARNING_DAYS} days`}. Make a new key and certificate, give the endpoint both keys (it tries each), and run register --certificate <new cert>.`,
      finding: { code: 'encryption-certificate-expiring', severity: expired ? 'error' : 'warning' },
    },
  ]
}

export function planEncryptionKey(ctx: PlanContext, app: AppPlan): Change[] {
  const cert = ctx.desired.encryption?.certificate
  const keys = app.app?.keyCredentials ?? []
  const current = app.app?.tokenEncryptionKeyId ?? undefined
  if (cert === undefined) {
    // doctor: is there one, and how long has it left?
    const key = keys.find((k) => isEncrypt(k) && lower(k.keyId) === lower(current))
    if (key === undefined)
      return [
        {
          kind: 'conflict',
          step: STEP,
          object: 'keyCredential',
          detail: 'no encryption certificate',
          problem: `app ${app.appId} has no certificate for Entra to encrypt passwords to (tokenEncryptionKeyId ${current ?? 'unset'} names no keyCredential with usage Encrypt). Run npm run register -- --events onPasswordSubmit --certificate <cert.pem>.`,
          finding: { code: 'encryption-certificate-missing' },
          needs: app.app === undefined ? [app.id] : [],
        },
      ]
    return [
      {
        kind: 'unchanged',
        step: STEP,
        object: 'keyCredential',
        detail: `certificate ${key.keyId ?? ''} until ${key.endDateTime ?? '?'}`,
      },
      ...expiry(ctx, key),
    ]
  }
  const found = holding(keys, cert)
  // An --extension-app register did not create: its token encryption is its owner's to change.
  const foreign = app.app !== undefined && !isRegisterMadeApp(app.app)
  if (found?.keyId !== undefined && found.keyId !== null) {
    if (lower(found.keyId) === lower(current))
      return [
        {
          kind: 'unchanged',
          step: STEP,
          object: 'keyCredential',
          detail: `certificate ${cert.thumbprint} is key ${found.keyId}, the tokenEncryptionKeyId`,
        },
        ...expiry(ctx, found),
      ]
    if (foreign) return [notOurs(app, cert, current, found.keyId)]
    return [
      {
        kind: 'update',
        step: STEP,
        object: 'keyCredential',
        detail: `app ${app.appId}: set tokenEncryptionKeyId to ${found.keyId} (certificate ${cert.thumbprint})`,
        fields: ['tokenEncryptionKeyId'],
        request: {
          method: 'PATCH',
          path: `/v1.0/applications/${ctx.seg(app.id)}`,
          body: { tokenEncryptionKeyId: found.keyId } satisfies ApplicationBody,
        },
        finding: { code: 'encryption-certificate-missing' },
      },
    ]
  }
  if (foreign) return [notOurs(app, cert, current, undefined)]
  const keyId = randomUUID()
  const added = {
    keyId,
    type: 'AsymmetricX509Cert',
    usage: 'Encrypt',
    key: cert.derBase64,
    customKeyIdentifier: cert.customKeyIdentifier,
    displayName: `CN of the password migration certificate: ${cert.subject}`.slice(0, 90),
    startDateTime: cert.notBefore.toISOString(),
    endDateTime: cert.notAfter.toISOString(),
  } satisfies KeyCredentialBody
  return [
    {
      kind: 'update',
      step: STEP,
      object: 'keyCredential',
      detail: `app ${app.appId}: add certificate ${cert.thumbprint} (until ${cert.notAfter.toISOString()}) with usage Encrypt, and make it the tokenEncryptionKeyId`,
      fields: ['keyCredentials', 'tokenEncryptionKeyId'],
      request: {
        method: 'PATCH',
        path: `/v1.0/applications/${ctx.seg(app.id)}`,
        body: {
          keyCredentials: [...keys.map((k) => ({ ...k })), added],
          tokenEncryptionKeyId: keyId,
        } satisfies ApplicationBody,
      },
      finding: { code: 'encryption-certificate-missing' },
    },
  ]
}

/**
 * The conflict planned for an --extension-app register did not create, when Entra cannot yet
 * encrypt passwords to `cert` through it: the change to make by hand, and why register does not.
 */
function notOurs(
  app: AppPlan,
  cert: EncryptionCertificate,
  current: string | undefined,
  heldAs: string | undefined,
): Change {
  const path = `/v1.0/applications/${app.id}`
  const change =
    heldAs === undefined
      ? `PATCH ${path} with keyCredentials = its current keyCredentials plus {"type":"AsymmetricX509Cert","usage":"Encrypt","key":"<the certificate's DER, base64>","customKeyIdentifier":"${cert.customKeyIdentifier}","keyId":"<a new GUID>"} (certificate ${cert.thumbprint}), and tokenEncryptionKeyId = that keyId`
      : `PATCH ${path} with {"tokenEncryptionKeyId":"${heldAs}"} (the keyCredential that holds certificate ${cert.thumbprint})`
  const why =
    current === undefined
      ? 'setting tokenEncryptionKeyId turns on token encryption for every token Entra issues to that app, which other software using it cannot read'
      : `its tokenEncryptionKeyId is ${current}, another key: replacing it changes the key every token Entra issues to that app is encrypted to, for the other software using it, so register never replaces it`
  return {
    kind: 'conflict',
    step: STEP,
    object: 'keyCredential',
    detail: `app ${app.appId} (--extension-app, not made by register): certificate ${cert.thumbprint} is not its token encryption key; left as it is`,
    problem: `app ${app.appId} (--extension-app) was not made by register, and ${why}. If nothing else relies on that app's tokens, make the change by hand: ${change}; then run register again. Otherwise run register without --extension-app (it creates an extension app of its own).`,
    finding: { code: 'encryption-certificate-missing' },
  }
}
