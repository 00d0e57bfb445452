// OnAttributeCollectionStart. Until the attribute-rules issue lands, sign-up proceeds unchanged.
import type { HandlerContext } from '../handler-context.js'
import { continueSignUp } from './actions.js'
import type { AttributeCollectionStartEvent, AttributeCollectionStartResponse } from './schema.js'

export function createAttributeCollectionStartHandler() {
  return function handleAttributeCollectionStart(
    _event: AttributeCollectionStartEvent,
    _context: HandlerContext,
  ): Promise<AttributeCollectionStartResponse> {
    return Promise.resolve(continueSignUp())
  }
}
