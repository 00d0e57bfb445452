// OnPasswordSubmit: check the typed password against the legacy system (the configured mode).
//   1. decrypt the context (400 ERR_INVALID_PASSWORD_CONTEXT, one fixed message);
//   2. a nonce seen before gets the first call's answer from a short-lived cache keyed by the
//      nonce's digest, and is not a second attempt (a nonce seen with other credentials is 400);
//   3. attempts per username in a sliding window (src/passwords/attempt-limit.ts); past it: Block;
//   4. right and strong: MigratePassword; right but weak (ours or the legacy system's word):
//      UpdatePassword; locked in the legacy system: Block (the `locked` texts); wrong: Retry;
//      the legacy system cannot say: 503/504 (PasswordCheckError), never Retry.
// Steps 2 and 3 are one guard per endpoint (passwordSubmitGuard), which a handler written in code
// passes through too (code.ts `around`).
// The password, the username and the decrypted context never reach a log line or an answer:
// logs carry a 16-character keyed digest of the username.
import { createHmac, randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { EndpointError } from '../../errors.js'
import type { PasswordSubmitConfig } from '../../extension-config/password-submit.js'
import { compileText } from '../../extension-config/localized-text.js'
import { createAttemptLimit } from '../../passwords/attempt-limit.js'
import { normaliseUsername } from '../../passwords/hashes-file.js'
import {
  invalidPasswordContext,
  passwordContextOf,
  type PasswordContext,
} from '../../passwords/password-context.js'
import type { PasswordMigration } from '../../passwords/password-migration.js'
import { PasswordCheckError, type CheckResult, type PasswordCheck } from '../../passwords/check.js'
import { ANSWER_RESERVE_MS } from '../../deadline.js'
import { meetsEntraPolicy } from '../../passwords/strength.js'
import type { EndpointDependencies } from '../event.js'
import type { HandlerContext } from '../handler-context.js'
import { blockSignIn, migratePassword, retryPassword, updatePassword } from './actions.js'
import type { PasswordSubmitEvent, PasswordSubmitResponse } from './schema.js'

/** How long a nonce's answer is kept: Entra's retries of one submission come within seconds. */
const REPEAT_TTL_MS = 10 * 60_000
const REPEAT_MAX = 50_000
/** The shared attempt count may take this share of the time left, at most this long. */
const ATTEMPT_STORE_SHARE = 0.3
const ATTEMPT_STORE_MAX_MS = 500

/** The decryption keys, or 503 ERR_NOT_CONFIGURED (also for handlers written in code). */
export function requireKeys(migration: PasswordMigration | undefined): PasswordMigration {
  if (migration === undefined || migration.keys.length === 0)
    throw new EndpointError(
      'ERR_NOT_CONFIGURED',
      'no decryption key is configured for OnPasswordSubmit (PASSWORD_DECRYPTION_KEY_PATH)',
    )
  return migration
}

/**
 * The attempt limit and the repeated-nonce cache, around every check of one endpoint: the
 * declarative one below and a handler written in code (code.ts) alike, so that both count the same
 * attempts. `decide` is called only for a new nonce under the limit.
 */
export type PasswordSubmitGuard = (
  event: PasswordSubmitEvent,
  context: HandlerContext,
  decide: (password: PasswordContext) => Promise<PasswordSubmitResponse>,
) => Promise<PasswordSubmitResponse>

/** One guard per endpoint (its dependencies): the declarative and the code path share it. */
const guards = new WeakMap<EndpointDependencies, PasswordSubmitGuard>()

export function passwordSubmitGuard(
  section: PasswordSubmitConfig,
  deps: EndpointDependencies,
): PasswordSubmitGuard {
  const existing = guards.get(deps)
  if (existing !== undefined) return existing
  const migration = deps.passwordMigration
  const title = compileText(section.block.title, deps.defaultLocale)
  const message = compileText(section.block.message, deps.defaultLocale)
  const limiter = createAttemptLimit(
    {
      max: section.attemptLimit.maxAttempts,
      windowMs: section.attemptLimit.windowSeconds * 1000,
    },
    migration?.sharedAttempts,
  )
  // The repeat cache's own key, random per process: never LOG_HASH_KEY (a secret operators know,
  // with which the credentials' digest in memory could be tested against guessed passwords). The
  // cache never leaves the process, so nothing else needs this key.
  const repeatKey = randomBytes(32)
  const repeatDigest = (text: string) =>
    createHmac('sha256', repeatKey).update(text, 'utf8').digest('hex')
  /** By the nonce's digest: a digest of the credentials, and the answer given. */
  const answered = new LRUCache<
    string,
    { readonly credentials: string; readonly answer: Promise<PasswordSubmitResponse> }
  >({ max: REPEAT_MAX, ttl: REPEAT_TTL_MS })
  /** The requests inside the guard: ctx.defaults() of a code handler is not a second attempt. */
  const inside = new WeakSet<PasswordSubmitEvent>()

  async function admit(
    configured: PasswordMigration,
    event: PasswordSubmitEvent,
    password: PasswordContext,
    context: HandlerContext,
    decide: (password: PasswordContext) => Promise<PasswordSubmitResponse>,
  ): Promise<PasswordSubmitResponse> {
    const username = normaliseUsername(password.username)
    const user = configured.digest(`user\0${username}`).slice(0, 16)
    const limitBudget = Math.min(ATTEMPT_STORE_MAX_MS, context.remainingMs() * ATTEMPT_STORE_SHARE)
    if (!(await limiter.take(username, user, context.now(), limitBudget))) {
      context.log.warn('password_blocked', { user, reason: 'attempt_limit' })
      const locale = event.data.authenticationContext.client?.locale
      return blockSignIn(password.nonce, title(locale), message(locale))
    }
    return decide(password)
  }

  const guard: PasswordSubmitGuard = async (event, context, decide) => {
    const configured = requireKeys(migration)
    const password = await passwordContextOf(
      event,
      event.data.encryptedPasswordContext,
      configured.keys,
    )
    if (inside.has(event)) return decide(password)
    const nonceKey = repeatDigest(`nonce\0${password.nonce}`)
    const credentials = repeatDigest(
      `credentials\0${normaliseUsername(password.username)}\0${password.password}`,
    )
    const earlier = answered.get(nonceKey)
    if (earlier !== undefined) {
      if (earlier.credentials !== credentials) throw invalidPasswordContext()
      context.log.info('password_repeated', {})
      return earlier.answer
    }
    inside.add(event)
    const answer = admit(configured, event, password, context, decide)
    answered.set(nonceKey, { credentials, answer })
    answer.then(
      () => inside.delete(event),
      () => {
        inside.delete(event)
        answered.delete(nonceKey)
      },
    )
    return answer
  }
  guards.set(deps, guard)
  return guard
}

export function createPasswordSubmitHandler(
  section: PasswordSubmitConfig,
  deps: EndpointDependencies,
) {
  const migration = deps.passwordMigration
  const lockedTitle = compileText(section.locked.title, deps.defaultLocale)
  const lockedMessage = compileText(section.locked.message, deps.defaultLocale)
  const guard = passwordSubmitGuard(section, deps)

  async function decide(
    migration: PasswordMigration,
    check: PasswordCheck,
    event: PasswordSubmitEvent,
    password: PasswordContext,
    context: HandlerContext,
  ): Promise<PasswordSubmitResponse> {
    const user = migration.digest(`user\0${normaliseUsername(password.username)}`).slice(0, 16)
    const started = context.now()
    const locale = event.data.authenticationContext.client?.locale
    let result: CheckResult
    try {
      result = await check.verify(password.username, password.password, {
        signal: context.signal,
        timeoutMs: Math.max(1, context.remainingMs() - ANSWER_RESERVE_MS),
      })
    } catch (err) {
      if (err instanceof PasswordCheckError)
        context.log.warn('password_check_failed', {
          user,
          mode: check.mode,
          code: err.code,
          reason: err.reason,
          ms: context.now() - started,
        })
      throw err
    }
    // Past the deadline the caller already got 504: an outcome logged now would describe an
    // answer no one received (and the comparison's timing), so only the lateness is logged.
    if (context.remainingMs() <= 0) {
      context.log.warn('password_check_late', {
        user,
        mode: check.mode,
        ms: context.now() - started,
      })
      throw new EndpointError('ERR_PASSWORD_CHECK_TIMEOUT', 'the legacy password check timed out')
    }
    const outcome =
      result.outcome === 'valid'
        ? meetsEntraPolicy(password.password)
          ? 'migrate'
          : 'update'
        : result.outcome === 'weak'
          ? 'update'
          : result.outcome === 'locked'
            ? 'block'
            : 'retry'
    context.log.info('password_checked', {
      user,
      mode: check.mode,
      outcome,
      ...result.fields,
      ms: context.now() - started,
    })
    if (outcome === 'migrate') return migratePassword(password.nonce)
    if (outcome === 'update') return updatePassword(password.nonce)
    if (outcome === 'block')
      return blockSignIn(password.nonce, lockedTitle(locale), lockedMessage(locale))
    return retryPassword(password.nonce)
  }

  return async function handlePasswordSubmit(
    event: PasswordSubmitEvent,
    context: HandlerContext,
  ): Promise<PasswordSubmitResponse> {
    const configured = requireKeys(migration)
    const check = configured.check
    if (check === undefined)
      throw new EndpointError(
        'ERR_NOT_CONFIGURED',
        'no password check is configured for OnPasswordSubmit (PASSWORD_HASHES_FILE, PASSWORD_HASHES_CONNECTION_STRING or passwordSubmit.check)',
      )
    return guard(event, context, (password) => decide(configured, check, event, password, context))
  }
}
