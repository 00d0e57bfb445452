// `ropc` mode: an OAuth 2.0 resource-owner password credentials grant (RFC 6749 §4.3) against the
// legacy OpenID provider's token endpoint (Auth0, Okta, Keycloak, a B2C ROPC user flow). A token
// in a 200 answer: valid. `invalid_grant` (RFC 6749 §5.2: the credentials are wrong) with any 4xx
// status: invalid (RFC 6749 says 400; Auth0 answers a wrong password 403, Keycloak 401). Anything else (another error, a 5xx, no token, slow, down) is the provider failing: a
// PasswordCheckError (503/504), never `invalid`. The token itself is dropped unread.
import type { RopcCheckConfig } from '../extension-config/password-submit.js'
import { fetchJson, OutboundError, type JsonAnswer } from '../outbound/fetch-json.js'
import { PasswordCheckError, type PasswordCheck } from './check.js'
import { checkFailure } from './legacy-api.js'

const MAX_ANSWER_BYTES = 65_536

const stringField = (body: unknown, name: string) => {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  return typeof value === 'string' ? value : undefined
}

export function ropcCheck(
  config: RopcCheckConfig,
  clientSecret: string | undefined,
): PasswordCheck {
  return {
    mode: 'ropc',
    async verify(username, password, call) {
      const form = new URLSearchParams({
        grant_type: 'password',
        username,
        password,
        client_id: config.clientId,
        scope: config.scope,
      })
      if (clientSecret !== undefined) form.set('client_secret', clientSecret)
      let answer: JsonAnswer
      try {
        answer = await fetchJson(config.tokenUrl, {
          method: 'POST',
          form,
          timeoutMs: Math.max(1, Math.min(config.timeoutMs, call.timeoutMs)),
          signal: call.signal,
          maxBytes: MAX_ANSWER_BYTES,
          anyStatus: true,
        })
      } catch (err) {
        if (err instanceof OutboundError) throw checkFailure('the token endpoint', err)
        throw err
      }
      const error = stringField(answer.body, 'error')
      if (answer.status === 200 && stringField(answer.body, 'access_token') !== undefined)
        return { outcome: 'valid', fields: { status: answer.status } }
      if (answer.status >= 400 && answer.status < 500 && error === 'invalid_grant')
        return { outcome: 'invalid', fields: { status: answer.status } }
      // The OAuth error code is a fixed token (RFC 6749 §5.2), safe to log; anything else is not.
      const code = error !== undefined && /^[a-z_]{1,64}$/.test(error) ? `, ${error}` : ''
      throw new PasswordCheckError(
        false,
        `the token endpoint answered HTTP ${answer.status}${code}, neither a token nor invalid_grant`,
      )
    },
  }
}
