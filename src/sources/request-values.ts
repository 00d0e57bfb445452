// Placeholders in source requests ("{user.id}") filled from the request's fields (the same closed
// table claims use), so configuration cannot reach anything the schema did not validate. In a URL
// a value never chooses where the request goes: the config schema keeps placeholders out of the
// scheme, user, host and port, and here a value stays inside its one path segment or query value.
import { PLACEHOLDER } from '../extension-config/sources.js'
import {
  REQUEST_FIELDS,
  type RequestFieldName,
} from '../events/token-issuance-start/request-fields.js'
import type { TokenIssuanceStartEvent } from '../events/token-issuance-start/schema.js'
import { SourceError } from './data-source.js'

export type FilledTemplate = (event: TokenIssuanceStartEvent) => string | SourceError

/** Turns one request value into text for the template, or refuses it (naming the field only). */
type Encode = (value: string, name: RequestFieldName) => string | SourceError

/**
 * Compiles a template once into its literal parts and field readers (it is filled on every call,
 * cache hits included); a missing or empty field is a SourceError naming the field.
 */
export function compileTemplate(template: string, encode: Encode): FilledTemplate {
  const literals: string[] = []
  const fields: RequestFieldName[] = []
  let at = 0
  for (const match of template.matchAll(PLACEHOLDER)) {
    literals.push(template.slice(at, match.index))
    fields.push(match[1] as RequestFieldName) // the config schema checked the name
    at = match.index + match[0].length
  }
  literals.push(template.slice(at))
  const readers = fields.map((name) => [name, REQUEST_FIELDS[name].read] as const)
  return (event) => {
    let out = literals[0] ?? ''
    for (let i = 0; i < readers.length; i++) {
      const [name, read] = readers[i] ?? []
      if (name === undefined || read === undefined) continue
      const value = read(event)
      if (value === undefined || value === null || value === '')
        return new SourceError(`the request has no ${name}`)
      const text = encode(value, name)
      if (text instanceof SourceError) return text
      out += text + (literals[i + 1] ?? '')
    }
    return out
  }
}

/** Body values go into JSON as they are. */
export const asIs: Encode = (value) => value

/**
 * A dot segment as the WHATWG URL parser sees it ("." or "..", a dot also written %2e in any case):
 * fetch removes it and, for "..", the segment before it, so the request climbs out of the path.
 */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i

const notASegment = (names: string) =>
  new SourceError(
    `${names} cannot fill a URL path segment: it is "." or "..", or holds "/" or "\\"`,
  )

/**
 * encodeURIComponent escapes everything that could end a path segment or a query value or start
 * another ("/", "\", "?", "#", "&", "=", "+", ";", "%", spaces and controls), so an encoded value
 * never changes the path's segment count nor adds a query parameter. It does not escape ".", and
 * it throws on a lone surrogate (the inbound JSON may hold one).
 */
const encodeValue: Encode = (value, name) => {
  try {
    return encodeURIComponent(value)
  } catch {
    return new SourceError(`${name} cannot be URL-encoded (not valid Unicode)`)
  }
}

/**
 * In a path segment "/" and "\" are refused rather than sent as %2F and %5C: servers and proxies
 * that decode those before routing would see more segments than the template has.
 */
const encodeInPath: Encode = (value, name) =>
  /[/\\]/.test(value) ? notASegment(name) : encodeValue(value, name)

/** One request value as one whole path segment (the Graph source's user id). */
export function encodePathSegment(value: string, name: RequestFieldName): string | SourceError {
  const text = encodeInPath(value, name)
  if (text instanceof SourceError) return text
  return DOT_SEGMENT.test(text) ? notASegment(name) : text
}

/**
 * A URL template (its placeholders in the path and the query only, as the config schema checks):
 * each path segment is filled on its own and must not end as a dot segment; query values are
 * URL-encoded.
 */
export function compileUrlTemplate(template: string): FilledTemplate {
  const queryAt = template.search(/[?#]/)
  const path = queryAt === -1 ? template : template.slice(0, queryAt)
  const segments = path.split('/').map((segment): FilledTemplate => {
    const fill = compileTemplate(segment, encodeInPath)
    const names = [...segment.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '')
    if (names.length === 0) return fill
    return (event) => {
      const text = fill(event)
      if (text instanceof SourceError || !DOT_SEGMENT.test(text)) return text
      return notASegment(names.join(' and '))
    }
  })
  const query = compileTemplate(queryAt === -1 ? '' : template.slice(queryAt), encodeValue)
  return (event) => {
    const parts: string[] = []
    for (const segment of segments) {
      const text = segment(event)
      if (text instanceof SourceError) return text
      parts.push(text)
    }
    const rest = query(event)
    return rest instanceof SourceError ? rest : parts.join('/') + rest
  }
}
