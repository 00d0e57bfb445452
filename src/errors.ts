// The one error type src/ throws, its stable codes and their HTTP statuses.
// A message is sent to the caller: it names the field or claim, never a value (no token, code, e-mail).

export type ErrorCode =
  | 'ERR_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_CALLER_NOT_ALLOWED'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_REQUEST_TIMEOUT'
  | 'ERR_MALFORMED_JSON'
  | 'ERR_INVALID_REQUEST'
  | 'ERR_INVALID_PASSWORD_CONTEXT'
  | 'ERR_UNSUPPORTED_EVENT'
  | 'ERR_WRONG_EVENT_TYPE'
  | 'ERR_KEYS_UNAVAILABLE'
  | 'ERR_NOT_CONFIGURED'
  | 'ERR_DEADLINE_EXCEEDED'
  | 'ERR_UPSTREAM_TIMEOUT'
  | 'ERR_UPSTREAM_FAILED'
  | 'ERR_CLAIMS_TOO_LARGE'
  | 'ERR_MAIL_REJECTED'
  | 'ERR_MAIL_UNAVAILABLE'
  | 'ERR_MAIL_TIMEOUT'
  | 'ERR_RATE_LIMITED'
  | 'ERR_PASSWORD_CHECK_UNAVAILABLE'
  | 'ERR_PASSWORD_CHECK_TIMEOUT'
  | 'ERR_INVALID_RESPONSE'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_INTERNAL'

/** The only place these numbers live; the compiler checks that every code has one. */
const STATUS = {
  ERR_NOT_FOUND: 404,
  ERR_METHOD_NOT_ALLOWED: 405,
  ERR_TOKEN_MISSING: 401,
  ERR_TOKEN_INVALID: 401,
  ERR_CALLER_NOT_ALLOWED: 401,
  ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_BODY_TOO_LARGE: 413,
  ERR_REQUEST_TIMEOUT: 408,
  ERR_MALFORMED_JSON: 400,
  ERR_INVALID_REQUEST: 400,
  // OnPasswordSubmit: the context does not decrypt or read; one fixed message (no oracle).
  ERR_INVALID_PASSWORD_CONTEXT: 400,
  ERR_UNSUPPORTED_EVENT: 400,
  ERR_WRONG_EVENT_TYPE: 400,
  // Our dependency (the issuer's key set) is down: not the caller's fault, so not a 401.
  ERR_KEYS_UNAVAILABLE: 503,
  // 503 (not 501) so that Entra treats it as a failure it may fall back from (OnOtpSend).
  ERR_NOT_CONFIGURED: 503,
  ERR_DEADLINE_EXCEEDED: 504,
  ERR_UPSTREAM_TIMEOUT: 504,
  ERR_UPSTREAM_FAILED: 502,
  // A required source answered more than fits in a token (Entra's 3 KB): upstream data, not us.
  ERR_CLAIMS_TOO_LARGE: 502,
  // OnOtpSend: every failure is non-2xx, so that Entra can fall back to its own e-mail.
  ERR_MAIL_REJECTED: 502,
  ERR_MAIL_UNAVAILABLE: 503,
  ERR_MAIL_TIMEOUT: 504,
  ERR_RATE_LIMITED: 429,
  // OnPasswordSubmit: the legacy system cannot say; never Retry (it would call a right password wrong).
  ERR_PASSWORD_CHECK_UNAVAILABLE: 503,
  ERR_PASSWORD_CHECK_TIMEOUT: 504,
  ERR_INVALID_RESPONSE: 500,
  ERR_CONFIG_INVALID: 500,
  ERR_INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>

export class EndpointError extends Error {
  override readonly name = 'EndpointError'
  readonly code: ErrorCode
  readonly status: number
  /** With ERR_METHOD_NOT_ALLOWED: the methods the route takes (the `Allow` header). */
  readonly allow: string | undefined

  /** `message` is sent to the caller: say what was wrong, name the field, never echo its value. */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; allow?: string }) {
    super(message, options)
    this.code = code
    this.status = STATUS[code]
    this.allow = options?.allow
  }
}

/** What each code means, for the reference table of docs/operations.md (npm run docs). */
export const ERROR_MEANINGS = {
  ERR_NOT_FOUND: 'No such route.',
  ERR_METHOD_NOT_ALLOWED: 'The route takes another method (the `Allow` header says which).',
  ERR_TOKEN_MISSING: 'No `Authorization: Bearer` token.',
  ERR_TOKEN_INVALID:
    'The token fails a check (signature, issuer, audience, lifetime); the message names it.',
  ERR_CALLER_NOT_ALLOWED:
    "A valid token, but not from Entra's authentication events service (`azp`/`appid`).",
  ERR_UNSUPPORTED_MEDIA_TYPE: 'The body is not `application/json` in UTF-8.',
  ERR_BODY_TOO_LARGE: 'The body is over `LIMIT_BODY_BYTES`.',
  ERR_REQUEST_TIMEOUT: 'The body did not arrive in time.',
  ERR_MALFORMED_JSON: 'The body is not valid UTF-8 JSON.',
  ERR_INVALID_REQUEST: 'A field the answer needs is missing or malformed; the message names it.',
  ERR_INVALID_PASSWORD_CONTEXT:
    'OnPasswordSubmit: the encrypted context does not decrypt or read (one fixed message).',
  ERR_UNSUPPORTED_EVENT: 'A `type` this endpoint does not serve.',
  ERR_WRONG_EVENT_TYPE: "Another event's body on this event's route.",
  ERR_KEYS_UNAVAILABLE: "The issuer's signing keys could not be fetched.",
  ERR_NOT_CONFIGURED:
    'The event lacks what it needs (a mail provider, a decryption key, a source).',
  ERR_DEADLINE_EXCEEDED: 'No answer within `REQUEST_BUDGET_MS`.',
  ERR_UPSTREAM_TIMEOUT: 'A required data source did not answer in time.',
  ERR_UPSTREAM_FAILED: 'A required data source failed.',
  ERR_CLAIMS_TOO_LARGE: "A required source's claims do not fit in Entra's 3 KB.",
  ERR_MAIL_REJECTED: 'OnOtpSend: the mail provider refused the message.',
  ERR_MAIL_UNAVAILABLE:
    'OnOtpSend: the mail provider is unavailable, or a handler could not deliver the code.',
  ERR_MAIL_TIMEOUT: 'OnOtpSend: the mail provider did not confirm in time.',
  ERR_RATE_LIMITED: 'OnOtpSend: too many codes to this recipient in the window.',
  ERR_PASSWORD_CHECK_UNAVAILABLE:
    'OnPasswordSubmit: the legacy system (hash table, verification API, token endpoint) failed or answered something the mapping does not cover.',
  ERR_PASSWORD_CHECK_TIMEOUT: 'OnPasswordSubmit: the legacy system did not answer in time.',
  ERR_INVALID_RESPONSE:
    "Our answer failed its own schema: a bug or a handler's wrong answer; logged.",
  ERR_CONFIG_INVALID: 'The app started with a configuration problem; the problems are in its log.',
  ERR_INTERNAL: 'An unexpected error; details in the log, never in the answer.',
} as const satisfies Record<ErrorCode, string>

/** Every code with its status, in the order of the type. */
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[]

export function statusOf(code: ErrorCode): number {
  return STATUS[code]
}

/** The types along an error's cause chain, for logs: types only, a message may hold user data. */
export function causeChainTypes(err: unknown): string {
  const types: string[] = []
  let current: unknown = err
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    types.push(current instanceof Error ? current.name : typeof current)
    current = current instanceof Error ? current.cause : undefined
  }
  return types.join(' <- ')
}

/**
 * A start-up check's failure, for its log line: the error's own message, the cause chain's types,
 * and the first line of the innermost cause's message (an SDK's "no response from the managed
 * identity endpoint", a provider's "AADSTS7000215"), bounded. For start-up checks only: they run
 * before any request, so no message can hold a user's data; a secret is never part of the
 * credential libraries' messages.
 */
export function startupFailureFields(err: unknown): {
  readonly reason: string
  readonly cause: string
  readonly detail: string | undefined
} {
  let innermost: unknown = err
  for (
    let depth = 0;
    innermost instanceof Error && innermost.cause !== undefined && depth < 5;
    depth++
  )
    innermost = innermost.cause
  const firstLine = (text: string) => text.split('\n', 1)[0]?.trim().slice(0, 300)
  return {
    reason: err instanceof Error ? (firstLine(err.message) ?? 'unknown') : 'unknown',
    cause: causeChainTypes(err),
    detail:
      innermost !== err && innermost instanceof Error ? firstLine(innermost.message) : undefined,
  }
}
