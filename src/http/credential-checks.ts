// Outbound credentials tried once at start-up (the Graph token of a Graph claims source), so that
// /api/health answers 503 while every token call would fail, instead of "ok". A failed check is
// tried again, in the background, on a health probe at most once a minute: the endpoint recovers
// when the credential does. The checks log their own outcome; this keeps only the state. Other
// start-up checks of an outbound dependency use it too (the OnPasswordSubmit hash table exists).

/** How long a failed check stands before a health probe starts it again. */
export const RETRY_AFTER_MS = 60_000

export interface FailingCheck {
  /** The credential's name: `graph`. */
  readonly name: string
  /** The reason code health reports: `<name>_credential_failed`, unless the check names its own. */
  readonly code: string
  /** What health logs after the code, when the check says (else the credential's wording). */
  readonly reason?: string | undefined
}

export interface CredentialChecks {
  /**
   * Starts `run` now, and records whether it settles fulfilled; the promise settles (never
   * rejects) with the first try. A check that is not of a credential names its own code and reason.
   */
  add(
    name: string,
    run: () => Promise<unknown>,
    failure?: { readonly code: string; readonly reason: string },
  ): Promise<void>
  /** The first check whose last try failed (started again when it is old enough). */
  failing(): FailingCheck | undefined
}

export function createCredentialChecks(now: () => number): CredentialChecks {
  interface Entry {
    state: 'pending' | 'ok' | 'failed'
    at: number
    readonly run: () => Promise<unknown>
    readonly failure: { readonly code: string; readonly reason: string } | undefined
  }
  const checks = new Map<string, Entry>()
  const start = (entry: Entry): Promise<void> => {
    entry.state = 'pending'
    entry.at = now()
    return entry.run().then(
      () => {
        entry.state = 'ok'
      },
      () => {
        entry.state = 'failed'
      },
    )
  }
  return {
    add(name, run, failure) {
      const entry: Entry = { state: 'pending', at: now(), run, failure }
      checks.set(name, entry)
      return start(entry)
    },
    failing() {
      for (const [name, entry] of checks) {
        if (entry.state !== 'failed') continue
        if (now() - entry.at >= RETRY_AFTER_MS) void start(entry)
        return entry.failure === undefined
          ? { name, code: `${name}_credential_failed` }
          : { name, code: entry.failure.code, reason: entry.failure.reason }
      }
      return undefined
    },
  }
}
