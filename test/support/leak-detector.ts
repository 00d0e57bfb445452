// Finds personal data and secrets in text (log lines, output, answers): each registered value as
// is, in another case, URL-encoded and (on request) in base64 at any alignment; tokens known only
// as a run goes, whole, by part, and as any run of 20 of their characters; and, whatever was
// registered, any e-mail address, non-loopback IPv4 address or JWT. Used by the redaction suite
// (test/hardening/redaction.test.ts); tests register what they send.
export interface Needle {
  readonly label: string
  readonly text: string
  readonly caseSensitive: boolean
}

/**
 * The parts of base64(value) that do not depend on what precedes or follows the value, for each
 * of the three alignments it can have inside a longer encoded string; standard and URL alphabets.
 */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8')
  const forms: string[] = []
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64')
    const start = Math.ceil((shift * 8) / 6)
    const end = Math.floor(((shift + bytes.length) * 8) / 6)
    const core = encoded.slice(start, end)
    if (core.length >= 6) forms.push(core, core.replaceAll('+', '-').replaceAll('/', '_'))
  }
  return forms
}

const EMAIL_PATTERN = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/i
const IPV4_PATTERN = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{2,}/
/** Runs of the base64url alphabet long enough that only a token could have put them there. */
const TOKEN_RUN_PATTERN = /[A-Za-z0-9_-]{20,}/g

export class LeakDetector {
  private readonly fixed: Needle[] = []
  private readonly dynamic: (() => readonly string[])[] = []

  /** A value and its case-folded and URL-encoded forms; `base64` adds its base64 forms. */
  add(label: string, value: string, options: { base64?: boolean } = {}): void {
    for (const text of new Set([value, encodeURIComponent(value)]))
      this.fixed.push({ label, text, caseSensitive: false })
    if (options.base64 === true)
      for (const text of base64Forms(value))
        this.fixed.push({ label: `${label} (base64)`, text, caseSensitive: true })
  }

  /** Tokens known only as the run goes (sent to the endpoint, handed out by the stand-ins). */
  addLater(values: () => readonly string[]): void {
    this.dynamic.push(values)
  }

  /** Those tokens: a run of 20 or more of their characters is a leak too. */
  private tokens(): string[] {
    return this.dynamic.flatMap((values) => values()).filter((value) => value.length >= 40)
  }

  private needles(): Needle[] {
    const later: Needle[] = []
    for (const values of this.dynamic) {
      for (const value of values()) {
        const parts = value.split('.')
        later.push({ label: 'a token', text: value, caseSensitive: false })
        for (const part of parts.length === 3 ? parts : [])
          if (part.length >= 16)
            later.push({ label: 'a part of a token', text: part, caseSensitive: true })
        for (const text of base64Forms(value))
          later.push({ label: 'a token (base64)', text, caseSensitive: true })
      }
    }
    return [...this.fixed, ...later]
  }

  /** What each text gives away: empty when it is clean. */
  scan(texts: readonly string[]): string[] {
    const needles = this.needles()
    const tokens = this.tokens()
    const findings: string[] = []
    for (const text of texts) {
      const lower = text.toLowerCase()
      const found = new Set<string>()
      for (const needle of needles) {
        const hit = needle.caseSensitive
          ? text.includes(needle.text)
          : lower.includes(needle.text.toLowerCase())
        if (hit) found.add(needle.label)
      }
      const email = EMAIL_PATTERN.exec(text)
      if (email !== null) found.add(`an e-mail address (${email[0]})`)
      for (const [ip] of text.matchAll(IPV4_PATTERN))
        if (!ip.startsWith('127.')) found.add(`an IPv4 address (${ip})`)
      if (JWT_PATTERN.test(text)) found.add('a JWT')
      for (const [run] of text.matchAll(TOKEN_RUN_PATTERN))
        if (tokens.some((token) => token.includes(run)))
          found.add(`a fragment of a token (${run.slice(0, 12)}…)`)
      for (const label of found) findings.push(`${label} in: ${text.slice(0, 400)}`)
    }
    return findings
  }
}
