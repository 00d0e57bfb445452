// A claims source backed by the customer's own HTTPS JSON API: GET or POST to a configured URL
// with request values filled in (URL-encoded in the URL, never choosing its host nor leaving their
// path segment: request-values.ts), a static header from a secret setting
// or a managed-identity token, no redirects, an answer of at most 256 KiB that must be JSON.
import type { HttpSourceConfig } from '../extension-config/sources.js'
import type { AccessTokenSource } from '../outbound/access-token.js'
import { fetchJson, OutboundError } from '../outbound/fetch-json.js'
import { SourceError, type DataSource } from './data-source.js'
import { asIs, compileTemplate, compileUrlTemplate } from './request-values.js'

const MAX_ANSWER_BYTES = 262_144

export interface HttpSourceAuth {
  readonly header?: { readonly name: string; readonly value: string }
  readonly tokens?: AccessTokenSource
}

export function createHttpSource(
  name: string,
  config: HttpSourceConfig,
  auth: HttpSourceAuth,
): DataSource {
  const fillUrl = compileUrlTemplate(config.url)
  const bodyFields = Object.entries(config.body ?? {}).map(
    ([key, template]) => [key, compileTemplate(template, asIs)] as const,
  )
  const render = (event: Parameters<DataSource['keyFor']>[0]) => {
    const url = fillUrl(event)
    if (url instanceof SourceError) return url
    if (config.method === 'GET') return { url, body: undefined }
    const body: Record<string, string> = {}
    for (const [key, fill] of bodyFields) {
      const value = fill(event)
      if (value instanceof SourceError) return value
      body[key] = value
    }
    return { url, body }
  }

  return {
    name,
    keyFor(event) {
      const request = render(event)
      if (request instanceof SourceError) return request
      return request.body === undefined
        ? request.url
        : `${request.url}\n${JSON.stringify(request.body)}`
    },
    async fetch(event, signal, timeoutMs) {
      const request = render(event)
      if (request instanceof SourceError) throw request
      const started = performance.now()
      try {
        const headers: Record<string, string> = {}
        if (auth.header !== undefined) headers[auth.header.name] = auth.header.value
        if (auth.tokens !== undefined)
          headers.authorization = `Bearer ${await auth.tokens.getToken(signal, timeoutMs)}`
        const left = Math.max(1, Math.round(timeoutMs - (performance.now() - started)))
        const answer = await fetchJson(request.url, {
          method: config.method,
          headers,
          body: request.body,
          timeoutMs: left,
          signal,
          maxBytes: MAX_ANSWER_BYTES,
        })
        return answer.body
      } catch (err) {
        if (err instanceof OutboundError) {
          throw new SourceError(err.message, {
            timedOut: err.failure === 'timeout' || err.failure === 'deadline',
            cause: err,
          })
        }
        throw err
      }
    },
  }
}
