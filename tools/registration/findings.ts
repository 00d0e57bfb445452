// Every finding `npm run doctor` can report: its code, its usual severity (some are an error or a
// warning by case: `severities` lists both), what it means and the usual fix. A finding's own
// message and fix name the objects; these texts are the reference table of docs/registration.md,
// generated from this object (npm run docs).
export type Severity = 'error' | 'warning' | 'ok'

interface FindingInfo {
  /** The first is the usual one. */
  readonly severities: readonly [Severity, ...Severity[]]
  readonly meaning: string
  readonly fix: string
}

export const FINDINGS = {
  'tenant-mismatch': {
    severities: ['error'],
    meaning: 'Graph answered for another tenant than `ENTRA_TENANT_ID`',
    fix: 'set `ENTRA_TENANT_ID` to the tenant, or sign in to the tenant the endpoint serves',
  },
  'issuer-mismatch': {
    severities: ['error'],
    meaning:
      "`ENTRA_ISSUER` accepts none of the tenant's issuers (workforce-only in an External ID tenant, or the reverse)",
    fix: 'leave `ENTRA_ISSUER` unset, or set it to what register prints',
  },
  'auth-events-sp-missing': {
    severities: ['error'],
    meaning:
      'the caller\'s service principal ("Azure AD authentication events", `99045fe1-…`) is missing, or disabled',
    fix: 'npm run register creates a missing one; enable a disabled one yourself (register leaves it alone)',
  },
  'extension-missing': {
    severities: ['error', 'warning'],
    meaning:
      'no extension points at `--url` (error), or one event the endpoint serves has none (warning: ignore it if you do not use the event)',
    fix: 'npm run register --events <event>',
  },
  'extension-type-mismatch': {
    severities: ['error'],
    meaning: "an extension at one of the endpoint's routes is of another event's type",
    fix: 'delete it, or point it at the route of its event',
  },
  'extension-duplicate': {
    severities: ['error'],
    meaning: 'two extensions of the same type point at the same route',
    fix: 'delete all but one, and their listeners',
  },
  'extension-settings-differ': {
    severities: ['error'],
    meaning:
      "the extension's `targetUrl` (a function key in it, another case) or `resourceId` is not what the endpoint needs",
    fix: 'npm run register puts them back',
  },
  'target-url-invalid': {
    severities: ['error'],
    meaning: '`targetUrl` is not a URL (Entra 1003020)',
    fix: 'set `endpointConfiguration.targetUrl` to `{url}/api/{event}`',
  },
  'target-url-host': {
    severities: ['error'],
    meaning: 'an extension `--app` uses points at another host than `--url`',
    fix: 'point it at this deployment, or pass the right `--url`',
  },
  'target-url-path': {
    severities: ['error'],
    meaning: "`targetUrl` is none of the endpoint's routes",
    fix: "point it at the route of the extension's event",
  },
  'target-url-query': {
    severities: ['warning'],
    meaning: '`targetUrl` carries a query string (a function key?)',
    fix: 'remove it: the endpoint authenticates Entra by its bearer token',
  },
  'resource-id-format': {
    severities: ['error'],
    meaning: '`resourceId` is not `api://{host of targetUrl}/{appId}` (Entra 1003014)',
    fix: "set it to the extension app's identifier URI",
  },
  'resource-id-host': {
    severities: ['error'],
    meaning: "`resourceId`'s host is not `targetUrl`'s (Entra 1003015)",
    fix: 'give the app the identifier URI `api://{targetUrl host}/{appId}` and use it',
  },
  'app-not-found': {
    severities: ['error'],
    meaning: "the extension's app registration is missing",
    fix: 'npm run register creates it (or fix the appId in `resourceId`)',
  },
  'identifier-uri-missing': {
    severities: ['error'],
    meaning: 'the extension app lacks the identifier URI `api://{host}/{appId}` (Entra 1003014)',
    fix: 'npm run register adds it',
  },
  'permission-not-requested': {
    severities: ['warning'],
    meaning:
      "`CustomAuthenticationExtension.Receive.Payload` is not among the extension app's required permissions",
    fix: 'npm run register adds it',
  },
  'service-principal-missing': {
    severities: ['error'],
    meaning: 'the extension app has no service principal (Entra 1003016)',
    fix: 'npm run register creates it',
  },
  'service-principal-disabled': {
    severities: ['error'],
    meaning: "the extension app's service principal is disabled (Entra 1003019)",
    fix: 'enable it (`accountEnabled` true) if nothing should keep it disabled: register leaves it alone',
  },
  'permission-not-consented': {
    severities: ['error'],
    meaning: 'no admin consent for `CustomAuthenticationExtension.Receive.Payload` (Entra 1003021)',
    fix: 'npm run register grants it',
  },
  'audience-mismatch': {
    severities: ['error'],
    meaning:
      "the tokens' `aud` (client ID for v2, identifier URI for v1) is not in `ENTRA_AUDIENCE`",
    fix: 'add it to `ENTRA_AUDIENCE`',
  },
  'token-version-v1': {
    severities: ['error'],
    meaning:
      'the app gets v1 tokens, whose issuer `ENTRA_ISSUER` does not list; for an app register did not create, the fix is to add `https://sts.windows.net/{tenant}/` (not to switch the app to v2)',
    fix: 'add `https://sts.windows.net/{tenant}/` to `ENTRA_ISSUER`, or set the token version to 2 on an app register made',
  },
  'listener-missing': {
    severities: ['error', 'warning'],
    meaning:
      'no listener binds the extension to sign-ins (an error for token issuance and password submit; a warning for the sign-up and OTP events, which a user flow may call)',
    fix: 'npm run register --app <appId>, or attach the extension to a user flow',
  },
  'listener-app-missing': {
    severities: ['error'],
    meaning: "the extension's listener does not include `--app`",
    fix: 'npm run register --app <appId> adds it',
  },
  'listener-handler-differs': {
    severities: ['error'],
    meaning:
      "the listener's handler lacks a setting register gives it (the migration property, the OTP fallback)",
    fix: 'npm run register puts it back',
  },
  'listener-duplicate': {
    severities: ['warning'],
    meaning: '`--app` is bound to one event by more than one listener',
    fix: 'keep one listener per event and app',
  },
  'claim-not-registered': {
    severities: ['error'],
    meaning: 'a configured claim is missing from `claimsForTokenConfiguration` (Entra drops it)',
    fix: 'npm run register adds it',
  },
  'claim-not-served': {
    severities: ['warning'],
    meaning: '`claimsForTokenConfiguration` lists a claim `EXTENSION_CONFIG` does not configure',
    fix: 'configure it, or remove it from the extension',
  },
  'claim-not-mapped': {
    severities: ['warning'],
    meaning: 'a configured claim has no claims mapping policy entry on `--app`',
    fix: 'npm run register maps it',
  },
  'accept-mapped-claims-off': {
    severities: ['warning'],
    meaning:
      '`acceptMappedClaims` is off on `--app` (AADSTS50146), or it is multi-tenant and has no custom signing key',
    fix: 'npm run register sets it on a single-tenant app; give a multi-tenant app a custom signing key',
  },
  'accept-mapped-claims-multi-tenant': {
    severities: ['error'],
    meaning:
      "`--app` is multi-tenant (`signInAudience` not `AzureADMyOrg`) and has `acceptMappedClaims: true`: another tenant's admin could mint its tokens with claims of their choice",
    fix: 'turn it off, and use a custom signing key',
  },
  'target-app-not-found': {
    severities: ['error'],
    meaning: '`--app` has no service principal in the tenant (a wrong ID?)',
    fix: 'check the ID: the application (client) ID of the app users sign in to',
  },
  'timeout-too-high': {
    severities: ['error'],
    meaning: "Entra's timeout is above 2000 ms",
    fix: 'set it to at most 2000',
  },
  'timeout-below-budget': {
    severities: ['warning'],
    meaning:
      "Entra's timeout is below `REQUEST_BUDGET_MS` + 250 ms, so Entra gives up first (1003005)",
    fix: 'raise the timeout (npm run register --timeout), or lower the budget',
  },
  'timeout-above-budget': {
    severities: ['warning'],
    meaning:
      "Entra's timeout is more than 500 ms above what the endpoint needs: a hung call holds the user longer",
    fix: 'lower the timeout (npm run register --timeout)',
  },
  'retries-invalid': {
    severities: ['error'],
    meaning: '`maximumRetries` is neither 0 nor 1',
    fix: 'set it to 0 or 1',
  },
  'encryption-certificate-missing': {
    severities: ['error'],
    meaning:
      'password submit: the extension app has no certificate for Entra to encrypt to (`tokenEncryptionKeyId` names no `keyCredential` with usage `Encrypt`)',
    fix: 'npm run register --events onPasswordSubmit --certificate <cert.pem>',
  },
  'encryption-certificate-expiring': {
    severities: ['warning', 'error'],
    meaning:
      'password submit: the certificate expires within 30 days (warning), or has expired (error)',
    fix: 'make a new key and certificate, give the endpoint both keys, register the new certificate',
  },
  'encryption-key-mismatch': {
    severities: ['error', 'warning'],
    meaning:
      "password submit: the endpoint's key (`--certificate`, `PASSWORD_DECRYPTION_KEY_PATH`, or the Key Vault certificate `PASSWORD_DECRYPTION_CERT_NAME` names) is not the app's encryption certificate: the endpoint cannot decrypt (error); or the key could not be read to compare (warning: an unreadable file, or a vault that refuses doctor's identity, which needs certificates/get: the Key Vault Certificate User role)",
    fix: 'register the certificate of the key the endpoint has',
  },
  'migration-property-missing': {
    severities: ['error'],
    meaning:
      'password submit: the boolean extension property (`toBeMigrated`) is missing from the b2c-extensions-app',
    fix: 'npm run register creates it',
  },
  'b2c-extensions-app-missing': {
    severities: ['error'],
    meaning: 'password submit: the tenant has no b2c-extensions-app to hold the migration property',
    fix: 'an External ID tenant has one: check the tenant',
  },
  'health-failed': {
    severities: ['error'],
    meaning: '`--health`: the endpoint did not answer 200',
    fix: "check that the endpoint is deployed and running; a 503 means it runs but is not ready: its log's health_unavailable line says why (signing keys, the OnPasswordSubmit key, graph_credential_failed, mail_credential_failed, password_hashes_table_failed, otp_store_failed)",
  },
  'health-ok': { severities: ['ok'], meaning: '`--health`: the endpoint answered 200', fix: '' },
  'extension-ok': {
    severities: ['ok'],
    meaning: 'an extension at the endpoint is registered correctly',
    fix: '',
  },
} as const satisfies Record<string, FindingInfo>

export type FindingCode = keyof typeof FINDINGS

export const FINDING_CODES = Object.keys(FINDINGS) as FindingCode[]

export interface Finding {
  readonly severity: Severity
  readonly code: FindingCode
  readonly message: string
  readonly fix: string
}

/** The severities the table allows `code`: another one is a compile error where it is given. */
export type SeverityOf<C extends FindingCode> = (typeof FINDINGS)[C]['severities'][number]

/** A finding of `code`, with its usual severity unless told (one the table allows it). */
export function finding<C extends FindingCode>(
  code: C,
  message: string,
  fix: string,
  severity?: SeverityOf<C>,
): Finding {
  return { severity: severity ?? FINDINGS[code].severities[0], code, message, fix }
}
