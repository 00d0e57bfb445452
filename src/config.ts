// Start-up configuration: the environment (EnvSchema) and the EXTENSION_CONFIG file, parsed once,
// every problem reported at once, frozen. Problems name variables and fields, never values.
import { join, resolve } from 'node:path'
import * as z from 'zod'
import { describeIssue } from './describe-issue.js'
import { GUID_PATTERN } from './events/common.js'
import { ExtensionConfigSchema, type ExtensionConfig } from './extension-config/schema.js'
import type { LogLevel } from './log.js'
import { readMailConfig, type MailConfig } from './mail/mail-config.js'
import { packageRoot } from './package-root.js'
import { readPasswordSettings, type PasswordSettings } from './passwords/migration.js'
import { isHttpsUrl, isSecureUrl } from './secure-url.js'
import { readSettingFile } from './read-setting-file.js'
import { parseAuthenticationString } from './telemetry/authentication-string.js'

const requiredMessage = (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : undefined

const commaList = (item: z.ZodString, max: number, error?: typeof requiredMessage) =>
  z
    .string({ error })
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== ''),
    )
    .pipe(z.array(item).min(1, 'must list at least one value').max(max))

/**
 * A whole number in decimal digits only ("0x2EE", "7.5e2" and "abc" are refused, not coerced),
 * within [min, max]; the message names the unit and the range, and so does the generated table
 * (docs/configuration.md), from the same numbers.
 */
export function wholeNumber(options: {
  readonly min: number
  readonly max: number
  readonly fallback: number
  /** "milliseconds", "bytes"… or none for a plain number (a port). */
  readonly unit?: string
  readonly description: string
}) {
  const { min, max, fallback, unit, description } = options
  const what = unit === undefined ? 'a whole number' : `a whole number of ${unit}`
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return fallback
      const text = value.trim()
      const number = /^\d{1,16}$/.test(text) ? Number(text) : NaN
      if (number >= min && number <= max) return number
      ctx.addIssue({
        code: 'custom',
        message: `must be ${what} from ${min} to ${max} (default ${fallback})`,
      })
      return z.NEVER
    })
    .meta({ defaultText: `\`${fallback}\` (${min}–${max})`, description })
}

/** Every variable the endpoint reads. The table in docs/configuration.md is checked against it. */
export const EnvSchema = z.object({
  ENTRA_TENANT_ID: z.string({ error: requiredMessage }).regex(GUID_PATTERN, 'must be a GUID').meta({
    defaultText: 'none (dev mode when unset, local host only)',
    description: "The tenant's ID (GUID). Tokens must carry it in `tid` and in `iss`.",
  }),
  ENTRA_AUDIENCE: commaList(z.string().max(256), 10, requiredMessage).meta({
    defaultText: 'required with a tenant',
    description:
      "Comma-separated accepted `aud` values: the extension app's client ID (v2 tokens) and/or its identifier URI `api://{host}/{appId}` (v1 tokens).",
  }),
  ENTRA_ISSUER: commaList(
    z.string().refine(isSecureUrl, 'must be https URLs (http only for loopback hosts)'),
    10,
  )
    .optional()
    .meta({
      defaultText:
        '`https://login.microsoftonline.com/{tenant}/v2.0`, `https://{tenant}.ciamlogin.com/{tenant}/v2.0`',
      description:
        'Comma-separated accepted issuers, compared exactly with `iss`. Each must contain `/{tenant}/`. Keys come from `{issuer}/.well-known/openid-configuration` → `jwks_uri` (for `https://sts.windows.net/{tenant}/`, v1, from `login.microsoftonline.com/{tenant}/.well-known/openid-configuration`). `http` only for loopback hosts.',
    }),
  ENTRA_CLOCK_TOLERANCE_SECONDS: wholeNumber({
    min: 0,
    max: 300,
    fallback: 120,
    unit: 'seconds',
    description: 'Clock skew allowed on `exp` and `nbf`.',
  }),
  ENTRA_KEYS_TIMEOUT_MS: wholeNumber({
    min: 100,
    max: 30_000,
    fallback: 3000,
    unit: 'milliseconds',
    description:
      "Timeout of one metadata + key-set fetch. A fetch during a request is also bounded by that request's budget.",
  }),
  ENTRA_KEYS_REFETCH_COOLDOWN_MS: wholeNumber({
    min: 1000,
    max: 3_600_000,
    fallback: 30_000,
    unit: 'milliseconds',
    description:
      'At most one refetch per issuer in this period when a token names an unknown `kid`.',
  }),
  REQUEST_BUDGET_MS: wholeNumber({
    min: 100,
    max: 1900,
    fallback: 750,
    unit: 'milliseconds',
    description:
      'Deadline for one request, outbound work included; past it the answer is `504`. Waits (key fetches, the body, handlers) are cut off within 10 ms of it; CPU-bound steps (a signature check, ~1 ms) finish first. See below.',
  }),
  LIMIT_BODY_BYTES: wholeNumber({
    min: 1024,
    max: 1_048_576,
    fallback: 65_536,
    unit: 'bytes',
    description:
      'Largest accepted request body; larger gets `413`: at once when `Content-Length` declares it, otherwise as soon as the streamed bytes pass the limit (the rest is not read).',
  }),
  EXTENSION_CONFIG: z.string().max(4096).optional().meta({
    defaultText: 'the shipped `config/extension-config.example.json`',
    description:
      "Path of the product's JSON configuration (relative to the working directory). Unset: the example is used and the start-up banner says so.",
  }),
  GRAPH_BASE_URL: z
    .string()
    .refine(isHttpsUrl, 'must be an https URL')
    .default('https://graph.microsoft.com')
    .meta({
      defaultText: '`https://graph.microsoft.com`',
      description:
        "Microsoft Graph's origin (https), for national clouds (`https://graph.microsoft.us`, …). Tokens are requested for `{origin}/.default`. Used only when a Graph source is configured.",
    }),
  AZURE_TENANT_ID: z.string().regex(GUID_PATTERN, 'must be a GUID').optional().meta({
    defaultText: '`ENTRA_TENANT_ID`',
    description: 'The tenant of that app registration.',
  }),
  AZURE_CLIENT_ID: z.string().regex(GUID_PATTERN, 'must be a GUID').optional().meta({
    defaultText: 'none',
    description:
      'With `AZURE_CLIENT_SECRET` or `AZURE_CLIENT_CERTIFICATE_PATH`: the app registration Graph is called as. Alone: selects a user-assigned managed identity. Unset: the system-assigned managed identity.',
  }),
  AZURE_CLIENT_SECRET: z.string().max(1024).optional().meta({
    defaultText: 'none',
    description:
      'A client secret for Graph (local runs; in Azure prefer the managed identity). Never logged.',
  }),
  AZURE_CLIENT_CERTIFICATE_PATH: z.string().max(4096).optional().meta({
    defaultText: 'none',
    description: 'A PEM file (certificate and private key) for Graph, instead of a secret.',
  }),
  MAIL_PROVIDER: z.enum(['acs', 'sendgrid', 'smtp']).optional().meta({
    defaultText: 'none (OnOtpSend answers `503 ERR_NOT_CONFIGURED`)',
    description:
      '`acs`, `sendgrid` or `smtp`: who delivers OnOtpSend e-mails. Wins over `otpSend.provider` in `EXTENSION_CONFIG`.',
  }),
  MAIL_FROM: z.email('must be an e-mail address').max(320).optional().meta({
    defaultText: '`otpSend.from`',
    description: 'The sender address (required with a provider).',
  }),
  SMTP_URL: z.string().max(2048).optional().meta({
    defaultText: 'none',
    description:
      '`smtp://[user:pass@]host:port` (STARTTLS required unless the host is loopback; port 587 by default) or `smtps://…` (implicit TLS, 465). Never logged.',
  }),
  ACS_CONNECTION_STRING: z.string().max(2048).optional().meta({
    defaultText: 'none',
    description: 'Azure Communication Services: `endpoint=https://…;accesskey=…`. Never logged.',
  }),
  ACS_ENDPOINT: z.string().refine(isHttpsUrl, 'must be an https URL').optional().meta({
    defaultText: '`otpSend.acsEndpoint`',
    description:
      'ACS without a key: `https://<resource>.communication.azure.com`, with the managed identity (`AZURE_CLIENT_ID` picks a user-assigned one).',
  }),
  SENDGRID_API_KEY: z
    .string()
    .max(1024)
    .optional()
    .meta({ defaultText: 'none', description: "SendGrid's API key. Never logged." }),
  SENDGRID_BASE_URL: z
    .string()
    .refine(isSecureUrl, 'must be an https URL (http only for loopback hosts)')
    .optional()
    .meta({
      defaultText: '`https://api.sendgrid.com`',
      description:
        "SendGrid's API origin (`https://api.eu.sendgrid.com` for EU data residency; tests point it at a loopback server).",
    }),
  OTP_STORE_CONNECTION_STRING: z.string().max(2048).optional().meta({
    defaultText: 'none (memory, per instance)',
    description:
      'An Azure Storage connection string: the OnOtpSend duplicate check and rate limit are then shared by every instance, in a table. Never logged.',
  }),
  OTP_STORE_ENDPOINT: z
    .string()
    .max(2048)
    .refine(isHttpsUrl, 'must be an https URL (a table service endpoint)')
    .optional()
    .meta({
      defaultText: 'none',
      description:
        'The shared OTP store by table service URL (`https://<account>.table.core.windows.net`) and managed identity (role Storage Table Data Contributor), without a key. Set this or `OTP_STORE_CONNECTION_STRING`, not both.',
    }),
  OTP_STORE_CLIENT_ID: z.string().regex(GUID_PATTERN, 'must be a GUID').optional().meta({
    defaultText: '`AZURE_CLIENT_ID`',
    description:
      'The client ID of the user-assigned managed identity used with `OTP_STORE_ENDPOINT`, when `AZURE_CLIENT_ID` names an app registration (a Graph client secret or certificate).',
  }),
  OTP_STORE_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be a table name (3-63 letters and digits)')
    .default('otpsends')
    .meta({ defaultText: '`otpsends`', description: "The table's name (created when missing)." }),
  PASSWORD_DECRYPTION_KEY_PATH: commaList(z.string().max(4096), 2).optional().meta({
    defaultText: 'none (OnPasswordSubmit answers `503 ERR_NOT_CONFIGURED`; dev mode makes a key)',
    description:
      "The RSA private key (2048 bits or more) whose certificate Entra encrypts OnPasswordSubmit's context to: a PEM file (PKCS#8 or PKCS#1, with its certificate or not) or a PFX; two paths, comma-separated, during a rotation.",
  }),
  PASSWORD_DECRYPTION_KEY_PASSPHRASE: z.string().max(1024).optional().meta({
    defaultText: 'none',
    description: 'The passphrase of an encrypted PEM key or of a PFX. Never logged.',
  }),
  PASSWORD_DECRYPTION_KEY_VAULT_URL: z
    .string()
    .refine(isHttpsUrl, 'must be an https URL')
    .optional()
    .meta({
      defaultText: 'none',
      description:
        'Instead of `PASSWORD_DECRYPTION_KEY_PATH`: the Key Vault (`https://<vault>.vault.azure.net`) holding the certificate, read once at start with the managed identity (`AZURE_CLIENT_ID` picks a user-assigned one; it needs the *Key Vault Secrets User* role). `/api/health` is 503 until it is read.',
    }),
  PASSWORD_DECRYPTION_CERT_NAME: commaList(
    z.string().regex(/^[A-Za-z0-9-]{1,127}$/, 'must be a Key Vault certificate name'),
    2,
  )
    .optional()
    .meta({
      defaultText: 'none',
      description:
        "The Key Vault certificate's name (its private key is read as the secret of that name); two, comma-separated, during a rotation. `npm run doctor` compares the first (the current one) with the extension app's encryption certificate, reading only its public part with the operator's sign-in (*Key Vault Certificate User*).",
    }),
  PASSWORD_HASHES_FILE: z.string().max(4096).optional().meta({
    defaultText: 'none (OnPasswordSubmit answers `503 ERR_NOT_CONFIGURED`)',
    description:
      'JSON lines `{"username", "hash"}` of the legacy system (bcrypt, argon2id/argon2i, scrypt, PBKDF2, ASP.NET Core Identity; see [password migration](password-migration.md)), read at start; a bad line stops the start naming its number.',
  }),
  PASSWORD_HASHES_CONNECTION_STRING: z.string().max(2048).optional().meta({
    defaultText: 'none',
    description:
      'Instead of `PASSWORD_HASHES_FILE`: an Azure Storage connection string whose table holds the legacy hashes, one row per user named by the SHA-256 of the normalised username ([password migration](password-migration.md)). Never logged.',
  }),
  PASSWORD_HASHES_TABLE: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be a table name (3-63 letters and digits)')
    .default('passwordhashes')
    .meta({
      defaultText: '`passwordhashes`',
      description:
        'The hashes table of `PASSWORD_HASHES_CONNECTION_STRING` (never created here: until it exists `/api/health` is 503, `password_hashes_table_failed`, and a check 503).',
    }),
  LOG_HASH_KEY: z.string().min(16, 'must be at least 16 characters').max(1024).optional().meta({
    defaultText: 'random per process',
    description:
      "Key (≥ 16 characters) of the digests that stand for recipients in logs (and in the OTP store's rows when set); set it to correlate logs across instances. The OTP store needs none.",
  }),
  AZURE_AUTHORITY_HOST: z.string().refine(isHttpsUrl, 'must be an https URL').optional().meta({
    defaultText: '`https://login.microsoftonline.com`',
    description:
      'The token authority for the secret or certificate (national clouds); trusted as given (no instance discovery).',
  }),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info').meta({
    defaultText: '`info`',
    description: '`debug`, `info`, `warn` or `error`. `info` writes one audit line per request.',
  }),
  // Read by src/telemetry/azure-monitor.ts before the rest (and by the Functions host itself).
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().max(4096).optional().meta({
    defaultText: 'unset',
    description:
      'Application Insights: when set, the endpoint sends its OpenTelemetry spans and metrics there through Azure Monitor (see [Telemetry](operations.md#telemetry)); unset, nothing is started or imported. `infra/main.bicep` sets it.',
  }),
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z
    .string()
    .max(256)
    .refine(
      (value) => parseAuthenticationString(value) !== undefined,
      'must be `Authorization=AAD` or `Authorization=AAD;ClientId=<GUID>`',
    )
    .optional()
    .meta({
      defaultText: 'unset (ingestion by the connection string alone)',
      description:
        'Entra-authenticated ingestion, for an Application Insights resource with local authentication off: the exporter then gets a token of the managed identity (`ClientId` names a user-assigned one). `infra/main.bicep` sets it.',
    }),
})

/** How the endpoint authenticates to Microsoft Graph (only used when a Graph source exists). */
export type GraphCredentialConfig =
  | {
      readonly kind: 'clientSecret'
      readonly tenantId: string
      readonly clientId: string
      readonly secret: string
      readonly authorityHost: string | undefined
    }
  | {
      readonly kind: 'clientCertificate'
      readonly tenantId: string
      readonly clientId: string
      readonly certificatePath: string
      readonly authorityHost: string | undefined
    }
  | { readonly kind: 'managedIdentity'; readonly clientId: string | undefined }

export type Config = Readonly<{
  tenantId: string
  audiences: readonly string[]
  issuers: readonly string[]
  clockToleranceSeconds: number
  keysTimeoutMs: number
  keysRefetchCooldownMs: number
  requestBudgetMs: number
  maxBodyBytes: number
  logLevel: LogLevel
  extension: ExtensionConfig
  /** Values of the app settings EXTENSION_CONFIG names as secrets (e.g. an API key), by name. */
  secrets: Readonly<Record<string, string>>
  graph: Readonly<{ baseUrl: string; credential: GraphCredentialConfig }>
  /** OnOtpSend's provider and templates; undefined when no provider is set (503 ERR_NOT_CONFIGURED). */
  mail: MailConfig | undefined
  /**
   * Azure Table Storage for the duplicate check shared by instances, by connection string or by
   * endpoint with the managed identity; memory when undefined.
   */
  otpStore: OtpStoreConfig | undefined
  /** OnPasswordSubmit's decryption keys and legacy hashes (PASSWORD_*). */
  password: PasswordSettings
  /** The key of recipient digests in logs and the duplicate check (random per process if unset). */
  logHashKey: string | undefined
  /** Where the extension configuration came from, for the start-up banner. */
  extensionSource: Readonly<{ kind: 'example' | 'file'; path: string }>
}>

export type OtpStoreConfig =
  | Readonly<{ connectionString: string; tableName: string }>
  | Readonly<{ endpoint: string; clientId: string | undefined; tableName: string }>

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`)
    this.problems = problems
  }
}

/** The shipped example configuration, used when EXTENSION_CONFIG is unset. */
export const EXAMPLE_EXTENSION_CONFIG = join(
  packageRoot(),
  'config',
  'extension-config.example.json',
)

/** The variables named in `keys` that are set; an empty value counts as unset (an empty app setting). */
function presentValues(
  env: Readonly<Record<string, string | undefined>>,
  keys: readonly string[],
): Record<string, string> {
  const present: Record<string, string> = {}
  for (const key of keys) {
    const value = env[key]
    if (value !== undefined && value.trim() !== '') present[key] = value
  }
  return present
}

/**
 * Reads the variables in EnvSchema, and the app settings EXTENSION_CONFIG names as secrets; an
 * empty value counts as unset (an empty app setting).
 * Relative EXTENSION_CONFIG paths resolve against `cwd`.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): Config {
  const present = presentValues(env, Object.keys(EnvSchema.shape))
  const parsed = EnvSchema.safeParse(present)
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => describeIssue(issue))

  const extensionPath =
    present.EXTENSION_CONFIG === undefined
      ? EXAMPLE_EXTENSION_CONFIG
      : resolve(cwd, present.EXTENSION_CONFIG)
  const extension = readExtensionConfig(extensionPath, problems)
  const secrets = extension === undefined ? {} : readSecrets(extension, env, problems)

  if (!parsed.success || extension === undefined || problems.length > 0)
    throw new ConfigError(problems)
  const e = parsed.data
  const tenantId = e.ENTRA_TENANT_ID.toLowerCase() // normalise once here, compare exactly elsewhere
  const issuers = e.ENTRA_ISSUER ?? defaultIssuers(tenantId)
  const mailProblems: string[] = []
  const mail = readMailConfig(e, extension, { cwd, packageRoot: packageRoot() }, mailProblems)
  if (mailProblems.length > 0) throw new ConfigError(mailProblems)
  const passwordProblems: string[] = []
  const password = readPasswordSettings(
    e,
    extension.passwordSubmit.check.mode,
    cwd,
    passwordProblems,
  )
  if (passwordProblems.length > 0) throw new ConfigError(passwordProblems)
  if (e.OTP_STORE_CONNECTION_STRING !== undefined && e.OTP_STORE_ENDPOINT !== undefined)
    throw new ConfigError([
      'OTP_STORE_ENDPOINT, OTP_STORE_CONNECTION_STRING: set one of them, not both (the endpoint uses the managed identity)',
    ])
  const graphCredential = readGraphCredential(e, tenantId)
  if (typeof graphCredential === 'string') throw new ConfigError([graphCredential])
  const foreign = issuers.filter((issuer) => !issuer.toLowerCase().includes(`/${tenantId}/`))
  if (foreign.length > 0) {
    throw new ConfigError([
      `ENTRA_ISSUER: every issuer must contain the tenant ID as a path segment ("/${tenantId}/"), so that "iss" and "tid" agree`,
    ])
  }
  return Object.freeze({
    tenantId,
    audiences: Object.freeze(e.ENTRA_AUDIENCE),
    issuers: Object.freeze(issuers.map(withoutTrailingSlashUnlessV1)),
    clockToleranceSeconds: e.ENTRA_CLOCK_TOLERANCE_SECONDS,
    keysTimeoutMs: e.ENTRA_KEYS_TIMEOUT_MS,
    keysRefetchCooldownMs: e.ENTRA_KEYS_REFETCH_COOLDOWN_MS,
    requestBudgetMs: e.REQUEST_BUDGET_MS,
    maxBodyBytes: e.LIMIT_BODY_BYTES,
    logLevel: e.LOG_LEVEL,
    extension,
    secrets: Object.freeze(secrets),
    graph: Object.freeze({ baseUrl: e.GRAPH_BASE_URL, credential: graphCredential }),
    mail,
    password,
    logHashKey: e.LOG_HASH_KEY,
    otpStore: readOtpStore(e),
    extensionSource: Object.freeze({
      kind: present.EXTENSION_CONFIG === undefined ? 'example' : 'file',
      path: extensionPath,
    } as const),
  })
}

/** The shared OTP store: by connection string (Azurite, local runs) or by endpoint and identity. */
function readOtpStore(e: z.infer<typeof EnvSchema>): OtpStoreConfig | undefined {
  const tableName = e.OTP_STORE_TABLE
  if (e.OTP_STORE_CONNECTION_STRING !== undefined)
    return Object.freeze({ connectionString: e.OTP_STORE_CONNECTION_STRING, tableName })
  if (e.OTP_STORE_ENDPOINT !== undefined)
    return Object.freeze({
      endpoint: e.OTP_STORE_ENDPOINT,
      clientId: e.OTP_STORE_CLIENT_ID ?? e.AZURE_CLIENT_ID,
      tableName,
    })
  return undefined
}

/** Contract §2: workforce v2 and External ID (ciamlogin.com) issuers of the tenant. */
export function defaultIssuers(tenantId: string): string[] {
  return [
    `https://login.microsoftonline.com/${tenantId}/v2.0`,
    `https://${tenantId}.ciamlogin.com/${tenantId}/v2.0`,
  ]
}

// Tokens carry the issuer exactly; v1 issuers end in "/" (https://sts.windows.net/{tid}/), v2 ones
// do not. Keep what the operator wrote, except a stray trailing slash on a v2 issuer.
function withoutTrailingSlashUnlessV1(issuer: string): string {
  return issuer.endsWith('/v2.0/') ? issuer.slice(0, -1) : issuer
}

/** AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH (with AZURE_CLIENT_ID), else managed identity. */
function readGraphCredential(
  e: z.infer<typeof EnvSchema>,
  tenantId: string,
): GraphCredentialConfig | string {
  const secret = e.AZURE_CLIENT_SECRET
  const certificatePath = e.AZURE_CLIENT_CERTIFICATE_PATH
  if (secret === undefined && certificatePath === undefined)
    return { kind: 'managedIdentity', clientId: e.AZURE_CLIENT_ID }
  if (secret !== undefined && certificatePath !== undefined)
    return 'AZURE_CLIENT_SECRET: set it or AZURE_CLIENT_CERTIFICATE_PATH, not both'
  if (e.AZURE_CLIENT_ID === undefined)
    return `AZURE_CLIENT_ID: is required with ${secret !== undefined ? 'AZURE_CLIENT_SECRET' : 'AZURE_CLIENT_CERTIFICATE_PATH'}`
  const common = {
    tenantId: e.AZURE_TENANT_ID ?? tenantId,
    clientId: e.AZURE_CLIENT_ID,
    authorityHost: e.AZURE_AUTHORITY_HOST,
  }
  return secret !== undefined
    ? { kind: 'clientSecret', secret, ...common }
    : { kind: 'clientCertificate', certificatePath: certificatePath ?? '', ...common }
}

/** The app settings EXTENSION_CONFIG names (`secretSetting`): each must be set, fail closed. */
function readSecrets(
  extension: ExtensionConfig,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): Record<string, string> {
  const named: [path: string, setting: string][] = []
  const auth = extension.attributeCollectionSubmit.remoteValidation?.auth
  if (auth?.type === 'header')
    named.push([
      'attributeCollectionSubmit.remoteValidation.auth.secretSetting',
      auth.secretSetting,
    ])
  for (const [name, source] of Object.entries(extension.tokenIssuanceStart.sources)) {
    if (source.type === 'http' && source.auth?.type === 'header')
      named.push([
        `tokenIssuanceStart.sources.${name}.auth.secretSetting`,
        source.auth.secretSetting,
      ])
  }
  const check = extension.passwordSubmit.check
  if (check.mode === 'legacyApi' && check.auth?.type === 'header')
    named.push(['passwordSubmit.check.auth.secretSetting', check.auth.secretSetting])
  if (check.mode === 'ropc' && check.clientSecretSetting !== undefined)
    named.push(['passwordSubmit.check.clientSecretSetting', check.clientSecretSetting])
  const secrets: Record<string, string> = {}
  for (const [path, setting] of named) {
    const value = env[setting]
    if (value === undefined || value.trim() === '') {
      problems.push(`${setting}: is required (EXTENSION_CONFIG ${path} names it)`)
    } else if (/[\r\n]/.test(value)) {
      problems.push(`${setting}: must be a single line (it is sent as an HTTP header)`)
    } else {
      secrets[setting] = value
    }
  }
  return secrets
}

/** What an operator CLI needs to know of the endpoint: no secrets, no mail or store settings. */
export interface EndpointSettings {
  readonly tenantId: string
  readonly audiences: readonly string[]
  readonly issuers: readonly string[]
  readonly requestBudgetMs: number
  readonly graphBaseUrl: string
  readonly extension: ExtensionConfig
  /**
   * PASSWORD_DECRYPTION_KEY_VAULT_URL and PASSWORD_DECRYPTION_CERT_NAME (both, or neither): where
   * OnPasswordSubmit's key is, for doctor to read the certificate's public part.
   */
  readonly keyVault?:
    { readonly vaultUrl: string; readonly certificateNames: readonly string[] } | undefined
}

/**
 * The endpoint's identity settings, EXTENSION_CONFIG and where its Key Vault key is, validated as
 * the endpoint validates them, for `doctor`: a read-only check must not need the production
 * secrets (mail keys, API keys).
 */
export function loadEndpointSettings(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): EndpointSettings {
  const Schema = EnvSchema.pick({
    ENTRA_TENANT_ID: true,
    ENTRA_AUDIENCE: true,
    ENTRA_ISSUER: true,
    REQUEST_BUDGET_MS: true,
    GRAPH_BASE_URL: true,
    PASSWORD_DECRYPTION_KEY_VAULT_URL: true,
    PASSWORD_DECRYPTION_CERT_NAME: true,
  })
  const parsed = Schema.safeParse(presentValues(env, Object.keys(Schema.shape)))
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => describeIssue(issue))
  const vaultUrl = parsed.data?.PASSWORD_DECRYPTION_KEY_VAULT_URL
  const certificateNames = parsed.data?.PASSWORD_DECRYPTION_CERT_NAME
  // The endpoint's rule (passwords/migration.ts readPasswordSettings), with its messages.
  if (parsed.success && (vaultUrl === undefined) !== (certificateNames === undefined))
    problems.push(
      vaultUrl === undefined
        ? 'PASSWORD_DECRYPTION_KEY_VAULT_URL: is required with PASSWORD_DECRYPTION_CERT_NAME'
        : 'PASSWORD_DECRYPTION_CERT_NAME: is required with PASSWORD_DECRYPTION_KEY_VAULT_URL',
    )
  let extension: ExtensionConfig | undefined
  try {
    extension = loadExtensionConfig(env, cwd)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    problems.push(...err.problems)
  }
  if (!parsed.success || extension === undefined || problems.length > 0)
    throw new ConfigError(problems)
  const tenantId = parsed.data.ENTRA_TENANT_ID.toLowerCase()
  return {
    tenantId,
    audiences: parsed.data.ENTRA_AUDIENCE,
    issuers: (parsed.data.ENTRA_ISSUER ?? defaultIssuers(tenantId)).map(
      withoutTrailingSlashUnlessV1,
    ),
    requestBudgetMs: parsed.data.REQUEST_BUDGET_MS,
    graphBaseUrl: parsed.data.GRAPH_BASE_URL,
    extension,
    keyVault:
      vaultUrl === undefined || certificateNames === undefined
        ? undefined
        : { vaultUrl, certificateNames },
  }
}

/**
 * EXTENSION_CONFIG alone (or the shipped example when unset), for the operator CLIs that need the
 * configured claims but not the endpoint's other settings (`register` runs before ENTRA_AUDIENCE
 * is known). Throws ConfigError naming the problems.
 */
export function loadExtensionConfig(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): ExtensionConfig {
  const value = env.EXTENSION_CONFIG?.trim()
  const path = value ? resolve(cwd, value) : EXAMPLE_EXTENSION_CONFIG
  const problems: string[] = []
  const extension = readExtensionConfig(path, problems)
  if (extension === undefined) throw new ConfigError(problems)
  return extension
}

function readExtensionConfig(path: string, problems: string[]): ExtensionConfig | undefined {
  const text = readSettingFile(path, `EXTENSION_CONFIG: ${path}`, problems)
  if (text === undefined) return undefined
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    problems.push(`EXTENSION_CONFIG: ${path}: not valid JSON${whereInText(text, err)}`)
    return undefined
  }
  const parsed = ExtensionConfigSchema.safeParse(json)
  if (parsed.success) return parsed.data
  for (const issue of parsed.error.issues)
    problems.push(`EXTENSION_CONFIG: ${path}: ${describeIssue(issue)}`)
  return undefined
}

/**
 * " at line L, column C" from a JSON.parse error's position (a trailing comma, say), or "" when it
 * gives none. Only the place is said, never the text around it (the file may hold secrets).
 */
function whereInText(text: string, err: unknown): string {
  const position = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1]
  if (position === undefined) return ''
  const before = text.slice(0, Number(position))
  const line = before.split('\n').length
  const column = Number(position) - before.lastIndexOf('\n')
  return ` at line ${line}, column ${column}`
}
