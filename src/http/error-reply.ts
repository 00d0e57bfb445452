// The one mapping from any thrown value to an HTTP answer. Internals never reach the caller: an
// unknown error becomes 500 ERR_INTERNAL, and only the types of its cause chain are logged.
import { causeChainTypes, EndpointError } from '../errors.js'
import type { Logger } from '../log.js'
import type { Reply } from './types.js'

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const

export function toEndpointError(err: unknown): EndpointError {
  return err instanceof EndpointError
    ? err
    : new EndpointError('ERR_INTERNAL', 'internal error', { cause: err })
}

export function errorReply(err: unknown, log: Logger): Reply {
  const e = toEndpointError(err)
  if (e.status >= 500)
    log.error('request_failed', { code: e.code, cause: causeChainTypes(e.cause) })

  const headers: Record<string, string> = { ...JSON_HEADERS }
  // RFC 6750 §3: no error attribute when credentials were absent, invalid_token otherwise.
  if (e.code === 'ERR_TOKEN_MISSING') headers['www-authenticate'] = 'Bearer'
  else if (e.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"'
  if (e.code === 'ERR_METHOD_NOT_ALLOWED') headers.allow = e.allow ?? 'POST'
  // The rest of an oversized or stalled body is not worth reading: close after answering.
  if (e.code === 'ERR_BODY_TOO_LARGE' || e.code === 'ERR_REQUEST_TIMEOUT')
    headers.connection = 'close'
  return {
    status: e.status,
    headers,
    body: JSON.stringify({ error: { code: e.code, message: e.message } }),
  }
}
