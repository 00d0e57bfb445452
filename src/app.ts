// Composition root: builds every long-lived part once per process (key store, verifier, handlers,
// pipeline) so that key and token caches survive between calls. Hosts call createEndpoint.
import { createSigningKeyStore } from './auth/signing-keys.js'
import { createCallerVerifier } from './auth/verify-caller.js'
import type { Config } from './config.js'
import { EndpointError, startupFailureFields } from './errors.js'
import { runCodeHandler, type CodeHandlers } from './events/code-handler.js'
import type { EndpointDependencies, EventHandler } from './events/event.js'
import { EVENTS } from './events/index.js'
import type { OtpMailing } from './mail/otp-mailing.js'
import {
  createMemoryDuplicateStore,
  failOpen,
  type DuplicateStore,
} from './mail/duplicate-store.js'
import type { MailConfig } from './mail/mail-config.js'
import { createRateLimiter, failOpenLimiter, type RateLimiter } from './mail/rate-limit.js'
import {
  createRecipientKeys,
  fixedStoreKeys,
  loadedStoreKeys,
  type RecipientKeys,
  type StoreKeys,
} from './mail/recipient-key.js'
import type { EventHandlers } from './events/routes.js'
import { createDeadlineClock } from './deadline.js'
import { createRequestHandler, type HandleRequest } from './http/handle-request.js'
import { errorReply, JSON_HEADERS } from './http/error-reply.js'
import type { Reply } from './http/types.js'
import type { Logger } from './log.js'
import type { Telemetry } from './telemetry/telemetry.js'
import { lazy, lazyDuplicateStore, lazyMailer, lazyPart, lazyRateLimiter } from './lazy.js'
import type { Mailer } from './mail/mailer.js'
import { createManagedIdentityTokenSource } from './outbound/access-token.js'
import { createRemoteValidator, type RemoteValidator } from './sign-up/remote-validation.js'
import type { RemoteAuth } from './extension-config/sign-up.js'
import type { SourceConfig } from './extension-config/sources.js'
import type { DataSource } from './sources/data-source.js'
import { createGraphConnection, createGraphSource, type GraphConnection } from './sources/graph.js'
import { createGraphTokenSource } from './sources/graph-credential.js'
import { createHttpSource, type HttpSourceAuth } from './sources/http-api.js'
import { createSourceRunner, type SourceRunner } from './sources/run-sources.js'
import { openSharedAttempts } from './passwords/attempt-limit.js'
import { createPasswordCheck } from './passwords/password-check.js'
import { createPasswordMigration } from './passwords/password-migration.js'
import { createCredentialChecks, type CredentialChecks } from './http/credential-checks.js'
import type { KeyObject } from 'node:crypto'

/** What the health route needs of its request. */
export interface HealthCall {
  /** The Authorization header: a valid Entra token (as on the event routes) sees the details. */
  readonly authorization: string | null
}

export interface Endpoint {
  readonly handle: HandleRequest
  /**
   * 200 `{"status":"ok"}` once the configuration is valid and signing keys were fetched, 503
   * `{"status":"unavailable"}` before. Anonymous callers get only that: the tenant's issuers and
   * the last key-fetch error go to the log, and to a caller with a valid Entra token (or to
   * anyone, with `openHealthDetails`: the local host in dev mode).
   */
  health(call?: HealthCall): Promise<Reply>
  /** Settles when every issuer's first key fetch has finished, whatever its outcome. */
  readonly warmedUp: Promise<void>
  /** OnPasswordSubmit's encryption (public) key, when it has a decryption key: dev mode and tests. */
  readonly passwordEncryptionKey: KeyObject | undefined
}

export interface EndpointOptions {
  readonly log: Logger
  readonly now?: () => number
  /** OpenTelemetry spans and metrics (default: none). */
  readonly telemetry?: Telemetry
  /** Health details for every caller: only for a host on loopback in dev mode. */
  readonly openHealthDetails?: boolean
  /** Handlers written in code (the package's API); the other events run EXTENSION_CONFIG's. */
  readonly code?: CodeHandlers
  /** OnPasswordSubmit's key when PASSWORD_DECRYPTION_KEY_PATH is unset: dev mode makes one. */
  readonly passwordDevKey?: KeyObject
}

export function createEndpoint(config: Config, options: EndpointOptions): Endpoint {
  const now = options.now ?? Date.now
  const keys = createSigningKeyStore({
    issuers: config.issuers,
    timeoutMs: config.keysTimeoutMs,
    cooldownMs: config.keysRefetchCooldownMs,
    log: options.log,
    now,
  })
  const verifier = createCallerVerifier({
    tenantId: config.tenantId,
    issuers: config.issuers,
    audiences: config.audiences,
    clockToleranceSeconds: config.clockToleranceSeconds,
    keys,
    now,
  })
  // Imports of optional libraries, started now and joined to the warm-up (src/lazy.ts).
  const warm: Promise<void>[] = []
  // Outbound credentials tried at start-up; a failing one makes health answer 503.
  const checks = createCredentialChecks(now)
  if (usesAzureCredential(config)) warm.push(lazy(() => import('@azure/identity')).ready)
  // One dependencies object for every event; each descriptor's createHandler takes what it needs.
  const deps: EndpointDependencies = {
    defaultLocale: config.extension.defaultLocale,
    log: options.log,
    now,
    sources: sourceRunner(config, now, options.log, checks),
    remoteValidator: remoteValidator(config),
    otpMailing: otpMailing(config, options.log, warm, checks),
    passwordMigration: createPasswordMigration(config.password, {
      devKey: options.passwordDevKey,
      hashKey: config.logHashKey,
      sharedAttempts: passwordAttempts(config, options.log, warm),
      check: createPasswordCheck(
        config.password,
        config.extension.passwordSubmit.check,
        { authFor: (auth) => outboundAuth(config, auth), secrets: config.secrets },
        warm,
        { checks, log: options.log },
      ),
      log: options.log,
      warm,
    }),
  }
  const handlers = Object.fromEntries(
    EVENTS.map((event) => {
      // A descriptor's createHandler reads its own section: the casts pair them by key and route.
      const declarative = (
        event.createHandler as (
          section: unknown,
          deps: EndpointDependencies,
        ) => EventHandler<unknown, unknown>
      )(config.extension[event.config.key], deps)
      const code = options.code?.[event.name] as Parameters<typeof runCodeHandler>[1] | undefined
      return [
        event.name,
        code === undefined
          ? declarative
          : runCodeHandler(
              event as Parameters<typeof runCodeHandler>[0],
              code,
              declarative,
              deps,
              config.extension[event.config.key],
            ),
      ]
    }),
  ) as EventHandlers
  const handle = createRequestHandler({
    verifier,
    handlers,
    requestBudgetMs: config.requestBudgetMs,
    maxBodyBytes: config.maxBodyBytes,
    now,
    ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
  })

  // The health route checks a token as the event routes do, under the same budget.
  const healthDeadlines = createDeadlineClock()
  const isEntraCaller = async (authorization: string | null): Promise<boolean> => {
    if (authorization === null) return false
    const deadline = healthDeadlines.start(config.requestBudgetMs)
    try {
      await verifier.verify(authorization, deadline)
      return true
    } catch {
      return false
    } finally {
      deadline.finish(true)
    }
  }
  let loggedReason: string | undefined
  const passwordCheckable =
    deps.passwordMigration?.check !== undefined || options.code?.onPasswordSubmit !== undefined

  return {
    handle,
    warmedUp: Promise.all([keys.warmUp(), ...warm]).then(() => undefined),
    // A getter: a key from Key Vault arrives after the endpoint is built.
    get passwordEncryptionKey() {
      return deps.passwordMigration?.encryptionKey
    },
    async health(call) {
      const issuers = keys.status()
      const keysReady = issuers.some((issuer) => issuer.keys > 0)
      // OnPasswordSubmit, when configured, needs its key (a file's at start, Key Vault's once read),
      // and something to check with: a store, a legacy system, or a handler written in code (else
      // the route answers 503 ERR_NOT_CONFIGURED, and health must not say ready).
      const passwordKeyReady =
        !config.password.configured || (deps.passwordMigration?.keys.length ?? 0) > 0
      const passwordCheckReady = !config.password.configured || passwordCheckable
      const passwordReady = passwordKeyReady && passwordCheckReady
      const failing = checks.failing()
      const ready = keysReady && passwordReady && failing === undefined
      const reason = !keysReady
        ? (issuers.find((issuer) => issuer.lastError !== undefined)?.lastError ??
          'signing keys have not been fetched yet')
        : !passwordKeyReady
          ? 'no OnPasswordSubmit decryption key is loaded (PASSWORD_DECRYPTION_KEY_PATH or PASSWORD_DECRYPTION_KEY_VAULT_URL)'
          : !passwordCheckReady
            ? 'no OnPasswordSubmit password check is configured (PASSWORD_HASHES_FILE, PASSWORD_HASHES_CONNECTION_STRING, EXTENSION_CONFIG passwordSubmit.check, or a handler written in code)'
            : failing !== undefined
              ? `${failing.code}: ${failing.reason ?? `the ${failing.name} credential failed its start-up check (see ${failing.name === 'graph' ? 'graph_token_failed' : `${failing.name}_credential_failed`} in the log)`}`
              : undefined
      if (reason !== loggedReason && reason !== undefined)
        options.log.warn('health_unavailable', { reason })
      loggedReason = reason
      const detailed =
        options.openHealthDetails === true || (await isEntraCaller(call?.authorization ?? null))
      const status = ready ? 'ok' : 'unavailable'
      const body = !detailed
        ? { status }
        : ready
          ? { status, issuers: issuers.map(({ issuer, keys: count }) => ({ issuer, keys: count })) }
          : { status, reason, ...(failing === undefined ? {} : { code: failing.code }) }
      return { status: ready ? 200 : 503, headers: JSON_HEADERS, body: JSON.stringify(body) }
    },
  }
}

/** Whether a Graph source or a managed identity needs @azure/identity. */
function usesAzureCredential(config: Config): boolean {
  const sources = Object.values(config.extension.tokenIssuanceStart.sources)
  const remote = config.extension.attributeCollectionSubmit.remoteValidation
  const password = config.extension.passwordSubmit.check
  return (
    sources.some((s) => s.type === 'graph' || s.auth?.type === 'managedIdentity') ||
    remote?.auth?.type === 'managedIdentity' ||
    (password.mode === 'legacyApi' && password.auth?.type === 'managedIdentity')
  )
}

/** How long the mail provider's start-up check may take: a TLS handshake and a login, or a token. */
const MAIL_CHECK_MS = 10_000

function otpMailing(
  config: Config,
  log: Logger,
  warm: Promise<void>[],
  checks: CredentialChecks,
): OtpMailing | undefined {
  const mail = config.mail
  if (mail === undefined) return undefined
  const transport = mail.transport
  // Only the configured provider's library is loaded (src/lazy.ts).
  const loaded = lazy<Mailer>(async () => {
    if (transport.provider === 'smtp')
      return (await import('./mail/smtp.js')).createSmtpMailer(transport.url)
    if (transport.provider === 'sendgrid')
      return (await import('./mail/sendgrid.js')).createSendGridMailer({
        ...transport,
        timeoutMs: mail.timeoutMs,
      })
    return (await import('./mail/acs.js')).createAcsMailer(transport)
  })
  warm.push(loaded.ready)
  // The provider's credential, tried once now without sending anything (Mailer.verify): a wrong
  // SendGrid key or SMTP password shows in health before the first code is due.
  void checks.add('mail', async () => {
    const mailer = await loaded.value
    if (mailer.verify === undefined) return
    const started = Date.now()
    try {
      await mailer.verify(MAIL_CHECK_MS)
      log.info('mail_credential_ready', { provider: transport.provider, ms: Date.now() - started })
    } catch (err) {
      log.warn('mail_credential_failed', {
        provider: transport.provider,
        ...startupFailureFields(err),
      })
      throw err
    }
  })
  const keys = createRecipientKeys(config.logHashKey)
  const store = otpStore(config, mail, keys, log, warm, checks)
  return {
    config: mail,
    mailer: lazyMailer(transport.provider, loaded),
    duplicates: store.duplicates,
    limiter: store.limiter,
    keys,
    storeKeys: store.keys,
  }
}

/** How long the OTP store's start-up check may take: a managed identity's first token and a call. */
const STORE_CHECK_MS = 10_000

/** How long the warm-up waits for the shared key: a few table calls, never a request's time. */
const STORE_KEY_WARM_UP_MS = 2000

/**
 * The duplicate check, in memory or in the shared table, and the keys of its rows: LOG_HASH_KEY
 * when set; else, with a table, the key kept in the table (so that instances agree on rows with
 * no setting); else this process's own.
 */
function otpStore(
  config: Config,
  mail: MailConfig,
  keys: RecipientKeys,
  log: Logger,
  warm: Promise<void>[],
  checks: CredentialChecks,
): {
  readonly duplicates: DuplicateStore
  readonly limiter: RateLimiter
  readonly keys: StoreKeys
} {
  // A pending claim older than this is taken over: its sender died mid-send.
  const ttls = { ttlMs: mail.duplicateTtlMs, pendingMs: Math.min(mail.duplicateTtlMs, 30_000) }
  if (config.otpStore === undefined)
    return {
      duplicates: createMemoryDuplicateStore(ttls),
      limiter: createRateLimiter(mail.rateLimit),
      keys: fixedStoreKeys(keys),
    }
  const otpStore = config.otpStore
  const unavailable = (operation: string, err: unknown) =>
    log.warn('otp_store_unavailable', {
      operation,
      reason: err instanceof Error ? err.name : 'unknown',
    })
  const table = lazy(async () => {
    const [
      { openOtpTable },
      { createTableDuplicateStore },
      { createTableRateLimiter },
      { readOrCreateSharedKey },
    ] = await Promise.all([
      import('./mail/otp-table.js'),
      import('./mail/table-duplicate-store.js'),
      import('./mail/table-rate-limit.js'),
      import('./mail/table-key.js'),
    ])
    const opened = openOtpTable(otpStore)
    return {
      duplicates: createTableDuplicateStore(opened, ttls),
      limiter: createTableRateLimiter(opened, mail.rateLimit),
      sharedKey: (budgetMs: number) => readOrCreateSharedKey(opened, budgetMs),
      // Its table made or found, with a start-up's time (a cold managed identity included).
      check: () => opened.client.createTable({ abortSignal: AbortSignal.timeout(STORE_CHECK_MS) }),
    }
  })
  warm.push(table.ready)
  // The store's credential and table, tried once now: the mail route fails open without them
  // (deduplicated and limited per instance), so health is where an operator sees it.
  void checks.add(
    'otp_store',
    async () => {
      try {
        await (await table.value).check()
        log.info('otp_store_ready', {})
      } catch (err) {
        log.warn('otp_store_failed', startupFailureFields(err))
        throw err
      }
    },
    {
      code: 'otp_store_failed',
      reason:
        'the OTP store (OTP_STORE_ENDPOINT / OTP_STORE_CONNECTION_STRING) failed its start-up check (otp_store_failed in the log): OTP mails are deduplicated and rate-limited per instance until it works',
    },
  )
  const duplicates = failOpen(lazyDuplicateStore(lazyPart(table, (t) => t.duplicates)), unavailable)
  const limiter = failOpenLimiter(lazyRateLimiter(lazyPart(table, (t) => t.limiter)), unavailable)
  if (config.logHashKey !== undefined) return { duplicates, limiter, keys: fixedStoreKeys(keys) }
  const shared = loadedStoreKeys(
    async (budgetMs) => (await table.value).sharedKey(budgetMs),
    (err) => unavailable('key', err),
    STORE_KEY_WARM_UP_MS,
  )
  warm.push(shared.ready)
  return { duplicates, limiter, keys: shared.keys }
}

/** The table of OnPasswordSubmit's attempt counts in the hash table's storage account. */
export const PASSWORD_ATTEMPTS_TABLE = 'passwordattempts'

/**
 * OnPasswordSubmit's attempt limit, shared across instances: in the OTP store's table when it is
 * configured; else, with PASSWORD_HASHES_CONNECTION_STRING, in a table of its own in that storage
 * account (created on first use); else per instance, which start-up says.
 */
function passwordAttempts(config: Config, log: Logger, warm: Promise<void>[]) {
  if (!config.password.configured) return undefined
  if (config.otpStore !== undefined)
    return openSharedAttempts(config.otpStore, config.logHashKey, log, warm)
  const hashes = config.password.hashesTable
  if (hashes !== undefined)
    return openSharedAttempts(
      { connectionString: hashes.connectionString, tableName: PASSWORD_ATTEMPTS_TABLE },
      config.logHashKey,
      log,
      warm,
    )
  log.warn('password_attempts_per_instance', {
    reason:
      'neither OTP_STORE_CONNECTION_STRING / OTP_STORE_ENDPOINT nor PASSWORD_HASHES_CONNECTION_STRING is set: each instance allows the attempt limit on its own',
  })
  return undefined
}

/** The data sources of tokenIssuanceStart, each with its auth; one Graph client for all. */
/** Long enough for a cold managed identity or a first MSAL discovery; never on a request's path. */
const GRAPH_WARM_UP_MS = 10_000

function sourceRunner(
  config: Config,
  now: () => number,
  log: Logger,
  checks: CredentialChecks,
): SourceRunner | undefined {
  const configured = Object.entries(config.extension.tokenIssuanceStart.sources)
  if (configured.length === 0) return undefined
  let graph: GraphConnection | undefined
  const sources = new Map<string, { source: DataSource; config: SourceConfig }>()
  for (const [name, source] of configured) {
    if (source.type === 'graph') {
      if (graph === undefined) {
        const tokens = createGraphTokenSource(config.graph.credential, config.graph.baseUrl)
        graph = createGraphConnection(config.graph.baseUrl, tokens)
        // Fetch the first Graph token now, in the background, so that the first sign-in does
        // not pay for the credential's discovery and token request inside its budget; and so
        // that health knows whether the credential works (tried again from health if not).
        void checks.add('graph', async () => {
          const started = now()
          try {
            await tokens.getToken(AbortSignal.timeout(GRAPH_WARM_UP_MS), GRAPH_WARM_UP_MS)
            log.info('graph_token_ready', { ms: now() - started })
          } catch (err) {
            log.warn('graph_token_failed', startupFailureFields(err))
            throw err
          }
        })
      }
      sources.set(name, { source: createGraphSource(name, source, graph), config: source })
    } else {
      sources.set(name, {
        source: createHttpSource(name, source, outboundAuth(config, source.auth)),
        config: source,
      })
    }
  }
  return createSourceRunner(sources, now)
}

function outboundAuth(config: Config, auth: RemoteAuth | undefined): HttpSourceAuth {
  if (auth?.type === 'header') {
    const value = config.secrets[auth.secretSetting]
    // loadConfig refuses a configuration whose secret setting is unset: this cannot happen.
    if (value === undefined) throw new Error(`${auth.secretSetting} is not loaded`)
    return { header: { name: auth.name, value } }
  }
  if (auth?.type === 'managedIdentity')
    return {
      tokens: createManagedIdentityTokenSource({ scope: auth.scope, clientId: auth.clientId }),
    }
  return {}
}

function remoteValidator(config: Config): RemoteValidator | undefined {
  const remote = config.extension.attributeCollectionSubmit.remoteValidation
  if (remote === undefined) return undefined
  return createRemoteValidator(remote, outboundAuth(config, remote.auth))
}

/**
 * What a host serves when the configuration is invalid: every event call answers 500
 * ERR_CONFIG_INVALID (the problems are in the host's log, not in the answer), health answers 503.
 */
export function createMisconfiguredEndpoint(log: Logger): Endpoint {
  const error = new EndpointError(
    'ERR_CONFIG_INVALID',
    "the endpoint's configuration is invalid; see its logs",
  )
  return {
    handle: () => Promise.resolve(errorReply(error, log)),
    warmedUp: Promise.resolve(),
    passwordEncryptionKey: undefined,
    // The problems were logged when the configuration was read; the route says no more.
    health: () =>
      Promise.resolve({
        status: 503,
        headers: JSON_HEADERS,
        body: JSON.stringify({ status: 'unavailable' }),
      }),
  }
}
