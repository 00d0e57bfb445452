// Regular expressions from EXTENSION_CONFIG, made safe against catastrophic backtracking twice over:
// they run on RE2JS, a linear-time engine (no backtracking at all), and a pattern that a
// backtracking engine would choke on (nested quantifiers, flagged by safe-regex2) is refused at
// start-up anyway, because the same pattern usually also lives in the app's own client-side checks.
import { RE2JS } from 're2js'
import isSafeRegex from 'safe-regex2'

export const MAX_PATTERN_LENGTH = 512

export interface SafePattern {
  /** True when the whole value matches (as if the pattern were wrapped in ^(?:…)$). */
  matches(value: string): boolean
}

/** Why a pattern is refused, or undefined when it is accepted. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`
  try {
    RE2JS.compile(pattern)
  } catch (err) {
    // RE2 refuses backreferences and lookaround: the features that need a backtracking engine.
    const reason = err instanceof Error ? err.message : 'cannot be parsed'
    return `is not supported by the linear-time engine (RE2 syntax, no lookaround or backreferences): ${reason}`
  }
  // safe-regex2 parses JavaScript syntax, which has no leading inline flags: check the rest.
  if (!isSafeRegex(pattern.replace(/^\(\?[imsU]+\)/, '')))
    return 'can backtrack catastrophically (a quantified group containing a quantifier, such as (a+)+); rewrite it without nesting'
  return undefined
}

/** Compiles a pattern that patternProblem accepted (the config schema checks first). */
export function compilePattern(pattern: string): SafePattern {
  const compiled = RE2JS.compile(pattern)
  return { matches: (value) => compiled.matches(value) }
}
