// OnTokenIssuanceStart (custom claims provider): claims from EXTENSION_CONFIG, static or taken
// from the request. The rules are compiled once; a call only reads fields.
import type { ClaimRule } from '../../extension-config/schema.js'
import type { HandlerContext } from '../handler-context.js'
import { provideClaimsForToken } from './actions.js'
import { REQUEST_FIELDS } from './request-fields.js'
import type { ClaimValue, TokenIssuanceStartEvent, TokenIssuanceStartResponse } from './schema.js'

type CompiledRule = (event: TokenIssuanceStartEvent) => ClaimValue | undefined

function compileRule(rule: ClaimRule): CompiledRule {
  const { value, from, default: fallback } = rule
  if (value !== undefined) return () => value
  if (from === undefined) return () => undefined // unreachable: the schema requires one of them
  const read = REQUEST_FIELDS[from].read
  // null and an empty string count as absent: a blank claim is noise in a token.
  return (event) => {
    const found = read(event)
    return found === undefined || found === null || found === '' ? fallback : found
  }
}

export function createTokenIssuanceStartHandler(claims: Readonly<Record<string, ClaimRule>>) {
  const rules = Object.entries(claims).map(([name, rule]) => [name, compileRule(rule)] as const)

  return function handleTokenIssuanceStart(
    event: TokenIssuanceStartEvent,
    _context: HandlerContext,
  ): TokenIssuanceStartResponse {
    const out: Record<string, ClaimValue> = {}
    for (const [name, rule] of rules) {
      const value = rule(event)
      if (value !== undefined) out[name] = value
    }
    return provideClaimsForToken(out)
  }
}
