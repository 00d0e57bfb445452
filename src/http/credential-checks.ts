// Outbound credentials tried once at start-up (the Graph token of a Graph claims source), so that
// /api/health answers 503 while every token call would fail, instead of "ok". A failed check is
// tried again, in the background, on a health probe at most once a minute: the endpoint recovers
// when the credential does. The checks log their own outcome; this keeps only the state.

/** How long a failed check stands before a health probe starts it again. */
export const RETRY_AFTER_MS = 60_000

export interface FailingCheck {
  /** The credential's name: `graph`. */
  readonly name: string
  /** The reason code health reports: `<name>_credential_failed`. */
  readonly code: string
}

export interface CredentialChecks {
  /** Starts `run` now, and records whether it settles fulfilled. */
  add(name: string, run: () => Promise<unknown>): void
  /** The first check whose last try failed (started again when it is old enough). */
  failing(): FailingCheck | undefined
}

export function createCredentialChecks(now: () => number): CredentialChecks {
  const checks = new Map<
    string,
    { state: 'pending' | 'ok' | 'failed'; at: number; run: () => Promise<unknown> }
  >()
  const start = (entry: { state: string; at: number; run: () => Promise<unknown> }) => {
    entry.state = 'pending'
    entry.at = now()
    entry.run().then(
      () => (entry.state = 'ok'),
      () => (entry.state = 'failed'),
    )
  }
  return {
    add(name, run) {
      const entry = { state: 'pending' as const, at: now(), run }
      checks.set(name, entry)
      start(entry)
    },
    failing() {
      for (const [name, entry] of checks) {
        if (entry.state !== 'failed') continue
        if (now() - entry.at >= RETRY_AFTER_MS) start(entry)
        return { name, code: `${name}_credential_failed` }
      }
      return undefined
    },
  }
}
