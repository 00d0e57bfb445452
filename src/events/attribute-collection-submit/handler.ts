// OnAttributeCollectionSubmit. Until the attribute-rules issue lands, the values are accepted as sent.
import type { HandlerContext } from '../handler-context.js'
import { continueSubmit } from './actions.js'
import type { AttributeCollectionSubmitEvent, AttributeCollectionSubmitResponse } from './schema.js'

export function createAttributeCollectionSubmitHandler() {
  return function handleAttributeCollectionSubmit(
    _event: AttributeCollectionSubmitEvent,
    _context: HandlerContext,
  ): Promise<AttributeCollectionSubmitResponse> {
    return Promise.resolve(continueSubmit())
  }
}
