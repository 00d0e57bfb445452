// OnTokenIssuanceStart (custom claims provider): claims from EXTENSION_CONFIG, static, taken from
// the request, or taken from data sources (Graph, the customer's HTTP APIs). The rules are compiled
// once. Without source claims a call only reads fields; with them, the
// sources a call needs run concurrently under the request deadline (src/sources/run-sources.ts).
//
// Entra's 3 KB limit (contract §4, error 1003025): static and request claims are bounded at
// start-up; source claims are counted here, in order — static and request claims first, then
// claims of required sources (an overflow fails the call: the token would lack data it must
// carry), then claims of optional sources (an overflowing claim is left out and logged).
import { compilePath } from '../../claims/path.js'
import { compileTransforms, toClaimValue } from '../../claims/transforms.js'
import { EndpointError } from '../../errors.js'
import type { ClaimRule } from './config.js'
import type { SourceConfig } from '../../extension-config/sources.js'
import type { SourceOutcome, SourceRunner } from '../../sources/run-sources.js'
import type { HandlerContext } from '../handler-context.js'
import { provideClaimsForToken } from './actions.js'
import { REQUEST_FIELDS } from './request-fields.js'
import {
  MAX_CLAIM_VALUES,
  MAX_CLAIMS_BYTES,
  type ClaimValue,
  type TokenIssuanceStartEvent,
  type TokenIssuanceStartResponse,
} from './schema.js'

type RequestRule = (event: TokenIssuanceStartEvent) => ClaimValue | undefined

interface SourceRule {
  readonly claim: string
  readonly source: string
  readonly required: boolean
  readonly read: (answer: unknown) => ClaimValue | undefined
  readonly fallback: ClaimValue | undefined
}

function compileRequestRule(rule: ClaimRule): RequestRule {
  const { value, from, default: fallback } = rule
  if (value !== undefined) return () => value
  if (from === undefined) return () => undefined // unreachable: source rules are compiled apart
  const read = REQUEST_FIELDS[from].read
  // null and an empty string count as absent: a blank claim is noise in a token.
  return (event) => {
    const found = read(event)
    return found === undefined || found === null || found === '' ? fallback : found
  }
}

const claimBytes = (name: string, value: ClaimValue) =>
  Buffer.byteLength(name) +
  (typeof value === 'string'
    ? Buffer.byteLength(value)
    : value.reduce((sum, item) => sum + Buffer.byteLength(item), 0))

export function createTokenIssuanceStartHandler(
  claims: Readonly<Record<string, ClaimRule>>,
  sources: Readonly<Record<string, SourceConfig>> = {},
  runner?: SourceRunner,
) {
  const requestRules: [string, RequestRule][] = []
  const sourceRules: SourceRule[] = []
  for (const [claim, rule] of Object.entries(claims)) {
    const sourceName = rule.source
    if (sourceName === undefined) {
      requestRules.push([claim, compileRequestRule(rule)])
      continue
    }
    const path = compilePath(rule.path ?? '')
    const transform = compileTransforms(rule.transforms ?? [])
    sourceRules.push({
      claim,
      source: sourceName,
      required: sources[sourceName]?.policy === 'required',
      read: (answer) => toClaimValue(transform(path.read(answer))),
      fallback: rule.default,
    })
  }
  // Required sources' claims are placed before optional ones: they win the space.
  sourceRules.sort((a, b) => Number(b.required) - Number(a.required))
  const needed = [...new Set(sourceRules.map((rule) => rule.source))]

  function requestClaims(event: TokenIssuanceStartEvent): Record<string, ClaimValue> {
    const out: Record<string, ClaimValue> = {}
    for (const [name, rule] of requestRules) {
      const value = rule(event)
      if (value !== undefined) out[name] = value
    }
    return out
  }

  if (needed.length === 0 || runner === undefined) {
    return function handleTokenIssuanceStart(
      event: TokenIssuanceStartEvent,
      _context: HandlerContext,
    ): Promise<TokenIssuanceStartResponse> {
      return Promise.resolve(provideClaimsForToken(requestClaims(event)))
    }
  }

  function answer(
    event: TokenIssuanceStartEvent,
    outcomes: ReadonlyMap<string, SourceOutcome>,
    log: HandlerContext['log'],
  ): TokenIssuanceStartResponse {
    failOnRequiredSource(needed, outcomes, sources)
    const out = requestClaims(event)
    let bytes = Object.entries(out).reduce((sum, [name, value]) => sum + claimBytes(name, value), 0)
    for (const rule of sourceRules) {
      const outcome = outcomes.get(rule.source)
      const value = (outcome?.ok === true ? rule.read(outcome.value) : undefined) ?? rule.fallback
      if (value === undefined) continue
      const size = claimBytes(rule.claim, value)
      const tooMany = typeof value !== 'string' && value.length > MAX_CLAIM_VALUES
      if (tooMany || bytes + size > MAX_CLAIMS_BYTES) {
        const reason = tooMany
          ? `more than ${MAX_CLAIM_VALUES} values`
          : `the claims would exceed Entra's limit of ${MAX_CLAIMS_BYTES} bytes`
        if (rule.required)
          throw new EndpointError(
            'ERR_CLAIMS_TOO_LARGE',
            `claim "${rule.claim}" from required source "${rule.source}" does not fit: ${reason}`,
          )
        log.warn('claim_dropped', { claim: rule.claim, source: rule.source, reason })
        continue
      }
      out[rule.claim] = value
      bytes += size
    }
    return provideClaimsForToken(out)
  }

  return async function handleTokenIssuanceStart(
    event: TokenIssuanceStartEvent,
    context: HandlerContext,
  ): Promise<TokenIssuanceStartResponse> {
    return answer(event, await runner.run(needed, { event, context }), context.log)
  }
}

function failOnRequiredSource(
  names: readonly string[],
  outcomes: ReadonlyMap<string, SourceOutcome>,
  sources: Readonly<Record<string, SourceConfig>>,
): void {
  for (const name of names) {
    const outcome = outcomes.get(name)
    if (outcome === undefined || outcome.ok || sources[name]?.policy !== 'required') continue
    throw new EndpointError(
      outcome.timedOut ? 'ERR_UPSTREAM_TIMEOUT' : 'ERR_UPSTREAM_FAILED',
      `required source "${name}": ${outcome.reason}`,
    )
  }
}
