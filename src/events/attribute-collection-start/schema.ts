// OnAttributeCollectionStart: before the sign-up attribute page is shown (contract §5).
import * as z from 'zod'
import {
  BlockPageFields,
  OutboundAttributesSchema,
  UserSignUpInfoSchema,
} from '../attribute-collection.js'
import { actionSchema, eventSchema, nullAsAbsent, responseSchema } from '../common.js'

export const ATTRIBUTE_COLLECTION_START =
  'microsoft.graph.authenticationEvent.attributeCollectionStart'
export const ATTRIBUTE_COLLECTION_START_DATA =
  'microsoft.graph.onAttributeCollectionStartCalloutData'
export const ATTRIBUTE_COLLECTION_START_RESPONSE_DATA =
  'microsoft.graph.onAttributeCollectionStartResponseData'
export const START_CONTINUE = 'microsoft.graph.attributeCollectionStart.continueWithDefaultBehavior'
export const START_SET_PREFILL_VALUES = 'microsoft.graph.attributeCollectionStart.setPrefillValues'
export const START_SHOW_BLOCK_PAGE = 'microsoft.graph.attributeCollectionStart.showBlockPage'

export const AttributeCollectionStartEventSchema = eventSchema(
  ATTRIBUTE_COLLECTION_START,
  ATTRIBUTE_COLLECTION_START_DATA,
  {
    userSignUpInfo: nullAsAbsent(UserSignUpInfoSchema.default({ attributes: {}, identities: [] })),
  },
)
export type AttributeCollectionStartEvent = z.infer<typeof AttributeCollectionStartEventSchema>

export const AttributeCollectionStartResponseSchema = responseSchema(
  ATTRIBUTE_COLLECTION_START_RESPONSE_DATA,
  z.discriminatedUnion('@odata.type', [
    actionSchema(START_CONTINUE, {}),
    actionSchema(START_SET_PREFILL_VALUES, { inputs: OutboundAttributesSchema }),
    actionSchema(START_SHOW_BLOCK_PAGE, BlockPageFields),
  ]),
)
export type AttributeCollectionStartResponse = z.infer<
  typeof AttributeCollectionStartResponseSchema
>
