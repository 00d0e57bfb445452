// OnAttributeCollectionSubmit for handlers written in code: the request's view and its actions.
import type { EventCode } from '../event.js'
import { signUpView, type SignUpView } from '../sign-up-view.js'
import {
  continueSubmit,
  modifyAttributeValues,
  showSubmitBlockPage,
  showValidationError,
} from './actions.js'
import type { AttributeCollectionSubmitEvent, AttributeCollectionSubmitResponse } from './schema.js'

export type AttributeCollectionSubmitView = SignUpView<AttributeCollectionSubmitEvent>

export interface AttributeCollectionSubmitActions {
  /** Accept the page as submitted. */
  continue(): AttributeCollectionSubmitResponse
  /** Accept it with these values changed (collected attributes only, in their types). */
  modifyAttributeValues(
    attributes: Readonly<Record<string, string | number | boolean>>,
  ): AttributeCollectionSubmitResponse
  /** Show the page again with this message and an error per attribute (a 200, never a 4xx). */
  showValidationError(
    message: string,
    attributeErrors: Readonly<Record<string, string>>,
  ): AttributeCollectionSubmitResponse
  /** End the sign-up on a page with this message (and title). */
  showBlockPage(message: string, title?: string): AttributeCollectionSubmitResponse
}

export const attributeCollectionSubmitCode: EventCode<
  AttributeCollectionSubmitEvent,
  AttributeCollectionSubmitView,
  AttributeCollectionSubmitActions
> = {
  view: signUpView,
  actions: () => ({
    continue: continueSubmit,
    modifyAttributeValues,
    showValidationError,
    showBlockPage: showSubmitBlockPage,
  }),
}
