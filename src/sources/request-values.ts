// Placeholders in source requests ("{user.id}") filled from the request's fields (the same closed
// table claims use), so configuration cannot reach anything the schema did not validate.
import { PLACEHOLDER } from '../extension-config/sources.js'
import {
  REQUEST_FIELDS,
  type RequestFieldName,
} from '../events/token-issuance-start/request-fields.js'
import type { TokenIssuanceStartEvent } from '../events/token-issuance-start/schema.js'
import { SourceError } from './data-source.js'

/** Fills a template; a missing or empty field is a SourceError naming the field. */
export function fillTemplate(
  template: string,
  event: TokenIssuanceStartEvent,
  encode: (value: string) => string,
): string | SourceError {
  let missing: string | undefined
  const filled = template.replaceAll(PLACEHOLDER, (_match, name: string) => {
    const value = REQUEST_FIELDS[name as RequestFieldName].read(event)
    if (value === undefined || value === null || value === '') {
      missing ??= name
      return ''
    }
    return encode(value)
  })
  return missing === undefined ? filled : new SourceError(`the request has no ${missing}`)
}
