// OnPasswordSubmit in `hashes` mode: check the typed password against PASSWORD_HASHES_FILE.
//   1. decrypt the context (400 ERR_INVALID_PASSWORD_CONTEXT, one fixed message);
//   2. a nonce seen before gets the first call's answer from a short-lived cache keyed by the
//      nonce's digest, and is not a second attempt (a nonce seen with other credentials is 400);
//   3. attempts per username digest in a sliding window; past the limit: Block;
//   4. right and strong: MigratePassword; right but weak: UpdatePassword; else Retry.
// The password, the username and the decrypted context never reach a log line or an answer:
// logs carry a 16-character keyed digest of the username.
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

export function createPasswordSubmitHandler(
  section: PasswordSubmitConfig,
  deps: EndpointDependencies,
) {
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
  /** By the nonce's digest: a digest of the credentials, and the answer given. */
  const answered = new LRUCache<
    string,
    { readonly credentials: string; readonly answer: Promise<PasswordSubmitResponse> }
  >({ max: REPEAT_MAX, ttl: REPEAT_TTL_MS })

  async function decide(
    migration: PasswordMigration & { hashes: NonNullable<PasswordMigration['hashes']> },
    event: PasswordSubmitEvent,
    password: PasswordContext,
    context: HandlerContext,
  ): Promise<PasswordSubmitResponse> {
    const username = normaliseUsername(password.username)
    const user = migration.digest(`user\0${username}`).slice(0, 16)
    const started = context.now()
    const limitBudget = Math.min(ATTEMPT_STORE_MAX_MS, context.remainingMs() * ATTEMPT_STORE_SHARE)
    if (!(await limiter.take(username, user, started, limitBudget))) {
      context.log.warn('password_blocked', { user, reason: 'attempt_limit' })
      const locale = event.data.authenticationContext.client?.locale
      return blockSignIn(password.nonce, title(locale), message(locale))
    }
    const stored = migration.hashes.get(username)
    const valid = stored !== undefined && (await stored.verify(password.password))
    const outcome = !valid ? 'retry' : meetsEntraPolicy(password.password) ? 'migrate' : 'update'
    context.log.info('password_checked', {
      user,
      outcome,
      known: stored !== undefined,
      ...(stored === undefined ? {} : { format: stored.format }),
      ms: context.now() - started,
    })
    if (outcome === 'migrate') return migratePassword(password.nonce)
    return outcome === 'update' ? updatePassword(password.nonce) : retryPassword(password.nonce)
  }

  return async function handlePasswordSubmit(
    event: PasswordSubmitEvent,
    context: HandlerContext,
  ): Promise<PasswordSubmitResponse> {
    const configured = requireKeys(migration)
    const hashes = configured.hashes
    if (hashes === undefined)
      throw new EndpointError(
        'ERR_NOT_CONFIGURED',
        'no password check is configured for OnPasswordSubmit (PASSWORD_HASHES_FILE)',
      )
    const password = await passwordContextOf(
      event,
      event.data.encryptedPasswordContext,
      configured.keys,
    )
    const nonceKey = configured.digest(`nonce\0${password.nonce}`)
    const credentials = configured.digest(
      `credentials\0${normaliseUsername(password.username)}\0${password.password}`,
    )
    const earlier = answered.get(nonceKey)
    if (earlier !== undefined) {
      if (earlier.credentials !== credentials) throw invalidPasswordContext()
      context.log.info('password_repeated', {})
      return earlier.answer
    }
    const answer = decide({ ...configured, hashes }, event, password, context)
    answered.set(nonceKey, { credentials, answer })
    answer.catch(() => answered.delete(nonceKey))
    return answer
  }
}
