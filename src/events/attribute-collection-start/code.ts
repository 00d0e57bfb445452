// OnAttributeCollectionStart for handlers written in code: the request's view and its actions.
import type { EventCode } from '../event.js'
import { signUpView, type SignUpView } from '../sign-up-view.js'
import { continueSignUp, setPrefillValues, showStartBlockPage } from './actions.js'
import type { AttributeCollectionStartEvent, AttributeCollectionStartResponse } from './schema.js'

export type AttributeCollectionStartView = SignUpView<AttributeCollectionStartEvent>

export interface AttributeCollectionStartActions {
  /** Show the attribute page as the user flow defines it. */
  continue(): AttributeCollectionStartResponse
  /** Prefill these attributes (names as Entra sent them, values in their declared types). */
  setPrefillValues(
    inputs: Readonly<Record<string, string | number | boolean>>,
  ): AttributeCollectionStartResponse
  /** End the sign-up on a page with this message (and title). */
  showBlockPage(message: string, title?: string): AttributeCollectionStartResponse
}

export const attributeCollectionStartCode: EventCode<
  AttributeCollectionStartEvent,
  AttributeCollectionStartView,
  AttributeCollectionStartActions
> = {
  view: signUpView,
  actions: () => ({
    continue: continueSignUp,
    setPrefillValues,
    showBlockPage: showStartBlockPage,
  }),
}
