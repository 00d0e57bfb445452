// What the OnOtpSend handler needs of an e-mail provider: hand one message over, or fail with a
// MailError that says whether the provider refused it (502), was unavailable (503) or did not
// confirm in time (504). Messages name statuses and codes, never the address or the content.
export interface OutgoingMail {
  readonly to: string
  readonly from: string
  readonly fromName: string | undefined
  readonly subject: string
  readonly text: string
  readonly html: string
}

export interface Mailer {
  readonly provider: 'acs' | 'sendgrid' | 'smtp'
  /** Resolves once the provider has accepted the message for delivery. */
  send(mail: OutgoingMail, signal: AbortSignal, timeoutMs: number): Promise<void>
  /**
   * Checks the credential without sending anything (SMTP: connect, TLS and AUTH; SendGrid: read
   * the key's scopes; ACS with a managed identity: a token). Absent where no such check exists
   * (ACS with an access key signs each request itself).
   */
  verify?(timeoutMs: number): Promise<void>
  close?(): Promise<void>
}

export type MailFailure = 'rejected' | 'unavailable' | 'timeout'

export class MailError extends Error {
  override readonly name = 'MailError'
  readonly failure: MailFailure
  /** The provider's status (HTTP status, or SMTP reply code), when it gave one. */
  readonly status: number | undefined

  constructor(
    failure: MailFailure,
    message: string,
    options: { status?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause })
    this.failure = failure
    this.status = options.status
  }
}

/** HTTP statuses: 429 and 5xx are the provider's trouble (try again), other 4xx a refusal. */
export function failureOfStatus(status: number): MailFailure {
  return status === 429 || status >= 500 ? 'unavailable' : 'rejected'
}

/** Races `work` against the timeout and the request signal (for clients that take neither). */
export function withinTime<T>(
  work: Promise<T>,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new MailError('timeout', `no confirmation within ${timeoutMs} ms`)),
      Math.max(1, Math.round(timeoutMs)),
    )
    const onAbort = () =>
      reject(new MailError('timeout', 'the request deadline passed before a confirmation'))
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}
