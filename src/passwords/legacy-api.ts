// `legacyApi` mode: POST {"username", "password"} (JSON) to the customer's own verification
// endpoint, with the HTTP sources' auth (an API key from an app setting, or a managed-identity
// token), and map the answer with the configured rules (status and/or a JSON field; first match
// wins). The URL is the configured one, never chosen by the request. Slow, down, or an answer no
// rule maps: a PasswordCheckError (504 / 503), never `invalid`.
import type { AnswerRule, LegacyApiCheckConfig } from '../extension-config/password-submit.js'
import { fetchJson, OutboundError, type JsonAnswer } from '../outbound/fetch-json.js'
import type { HttpSourceAuth } from '../sources/http-api.js'
import { PasswordCheckError, type CheckOutcome, type PasswordCheck } from './check.js'

const MAX_ANSWER_BYTES = 16_384

function fieldOf(body: unknown, path: string): unknown {
  let value = body
  for (const name of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    if (!Object.hasOwn(value, name)) return undefined
    value = (value as Record<string, unknown>)[name]
  }
  return value
}

/** The outcome of the first rule the answer meets; undefined when none does. */
export function mapAnswer(
  rules: readonly AnswerRule[],
  answer: JsonAnswer,
): CheckOutcome | undefined {
  for (const rule of rules) {
    const statuses = rule.status === undefined ? undefined : [rule.status].flat()
    if (statuses !== undefined && !statuses.includes(answer.status)) continue
    if (rule.field !== undefined && fieldOf(answer.body, rule.field) !== rule.equals) continue
    return rule.outcome
  }
  return undefined
}

/** An OutboundError as a PasswordCheckError: its message names no URL query, body or header. */
export function checkFailure(what: string, err: OutboundError): PasswordCheckError {
  const timedOut = err.failure === 'timeout' || err.failure === 'deadline'
  return new PasswordCheckError(timedOut, `${what}: ${err.message}`, { cause: err })
}

export function legacyApiCheck(config: LegacyApiCheckConfig, auth: HttpSourceAuth): PasswordCheck {
  return {
    mode: 'legacyApi',
    async verify(username, password, call) {
      const started = performance.now()
      const budget = Math.min(config.timeoutMs, call.timeoutMs)
      const left = () => Math.max(1, Math.round(budget - (performance.now() - started)))
      let answer: JsonAnswer
      try {
        const headers: Record<string, string> = {}
        if (auth.header !== undefined) headers[auth.header.name] = auth.header.value
        if (auth.tokens !== undefined)
          headers.authorization = `Bearer ${await auth.tokens.getToken(call.signal, left())}`
        answer = await fetchJson(config.url, {
          method: 'POST',
          headers,
          body: { username, password },
          timeoutMs: left(),
          signal: call.signal,
          maxBytes: MAX_ANSWER_BYTES,
          anyStatus: true,
        })
      } catch (err) {
        if (err instanceof OutboundError) throw checkFailure('the legacy API', err)
        throw err
      }
      const outcome = mapAnswer(config.answers, answer)
      if (outcome === undefined)
        throw new PasswordCheckError(
          false,
          `the legacy API answered HTTP ${answer.status}, which no answers rule maps`,
        )
      return { outcome, fields: { status: answer.status } }
    },
  }
}
