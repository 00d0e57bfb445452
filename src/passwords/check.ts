// What OnPasswordSubmit asks of the legacy system, whatever the mode: is this password right for
// this username? Each mode (hashes, legacyApi, ropc) answers one of four outcomes within the time
// it is given, or throws one of two errors: a legacy system that cannot say is never a Retry (that
// would tell a user their right password is wrong), it is a 503 or 504 that Entra shows as a
// failure. Errors and log fields name what failed, never the username or the password.
import { EndpointError } from '../errors.js'
import type { LogFields } from '../log.js'

export type CheckOutcome = 'valid' | 'invalid' | 'locked' | 'weak'

export interface CheckCall {
  /** The request deadline's signal. */
  readonly signal: AbortSignal
  /** This check's own limit, within what is left of the request. */
  readonly timeoutMs: number
}

export interface CheckResult {
  readonly outcome: CheckOutcome
  /** For the log line: safe facts only (a hash format, whether the user was found). */
  readonly fields?: LogFields
}

export interface PasswordCheck {
  readonly mode: 'hashes' | 'legacyApi' | 'ropc'
  verify(username: string, password: string, call: CheckCall): Promise<CheckResult>
}

/** The legacy system failed; `reason` (logged, never sent) must hold no user data. */
export class PasswordCheckError extends EndpointError {
  readonly reason: string
  constructor(timedOut: boolean, reason: string, options: { cause?: unknown } = {}) {
    super(
      timedOut ? 'ERR_PASSWORD_CHECK_TIMEOUT' : 'ERR_PASSWORD_CHECK_UNAVAILABLE',
      timedOut
        ? 'the legacy password check did not answer in time'
        : 'the legacy password check failed',
      options,
    )
    this.reason = reason
  }
}
