// Placeholders in source requests ("{user.id}") filled from the request's fields (the same closed
// table claims use), so configuration cannot reach anything the schema did not validate.
import { PLACEHOLDER } from '../extension-config/sources.js'
import {
  REQUEST_FIELDS,
  type RequestFieldName,
} from '../events/token-issuance-start/request-fields.js'
import type { TokenIssuanceStartEvent } from '../events/token-issuance-start/schema.js'
import { SourceError } from './data-source.js'

export type FilledTemplate = (event: TokenIssuanceStartEvent) => string | SourceError

/**
 * Compiles a template once into its literal parts and field readers (it is filled on every call,
 * cache hits included); a missing or empty field is a SourceError naming the field.
 */
export function compileTemplate(
  template: string,
  encode: (value: string) => string,
): FilledTemplate {
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
      const value = read?.(event)
      if (value === undefined || value === null || value === '')
        return new SourceError(`the request has no ${name ?? 'field'}`)
      out += encode(value) + (literals[i + 1] ?? '')
    }
    return out
  }
}
