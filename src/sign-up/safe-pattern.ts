// Regular expressions from EXTENSION_CONFIG, run on RE2JS: a linear-time engine with no
// backtracking, so no pattern (nested quantifiers included) can take catastrophic time on hostile
// input. What RE2 cannot run (lookaround, backreferences) is refused at start-up.
import { RE2JS } from 're2js'

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
  return undefined
}

/** Compiles a pattern that patternProblem accepted (the config schema checks first). */
export function compilePattern(pattern: string): SafePattern {
  const compiled = RE2JS.compile(pattern)
  return { matches: (value) => compiled.matches(value) }
}
