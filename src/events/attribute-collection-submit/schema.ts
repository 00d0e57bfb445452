// OnAttributeCollectionSubmit: after the user submits the sign-up attribute page (contract §5).
// A validation problem is a 200 with showValidationError, never an HTTP error (contract §9.4).
import * as z from 'zod'
import {
  ANSWER_TEXT_MAX,
  ATTRIBUTE_NAME_PATTERN,
  BlockPageFields,
  MAX_ATTRIBUTES,
  OutboundAttributesSchema,
  UserSignUpInfoSchema,
} from '../attribute-collection.js'
import { actionSchema, eventSchema, nullAsAbsent, responseSchema } from '../common.js'

export const ATTRIBUTE_COLLECTION_SUBMIT =
  'microsoft.graph.authenticationEvent.attributeCollectionSubmit'
export const ATTRIBUTE_COLLECTION_SUBMIT_DATA =
  'microsoft.graph.onAttributeCollectionSubmitCalloutData'
export const ATTRIBUTE_COLLECTION_SUBMIT_RESPONSE_DATA =
  'microsoft.graph.onAttributeCollectionSubmitResponseData'
export const SUBMIT_CONTINUE =
  'microsoft.graph.attributeCollectionSubmit.continueWithDefaultBehavior'
export const SUBMIT_MODIFY_ATTRIBUTE_VALUES =
  'microsoft.graph.attributeCollectionSubmit.modifyAttributeValues'
export const SUBMIT_SHOW_VALIDATION_ERROR =
  'microsoft.graph.attributeCollectionSubmit.showValidationError'
export const SUBMIT_SHOW_BLOCK_PAGE = 'microsoft.graph.attributeCollectionSubmit.showBlockPage'

export const AttributeCollectionSubmitEventSchema = eventSchema(
  ATTRIBUTE_COLLECTION_SUBMIT,
  ATTRIBUTE_COLLECTION_SUBMIT_DATA,
  {
    userSignUpInfo: nullAsAbsent(UserSignUpInfoSchema.default({ attributes: {}, identities: [] })),
  },
)
export type AttributeCollectionSubmitEvent = z.infer<typeof AttributeCollectionSubmitEventSchema>

const AttributeErrorsSchema = z
  .record(
    z.string().regex(ATTRIBUTE_NAME_PATTERN),
    z.string().min(1).max(ANSWER_TEXT_MAX.attributeError),
  )
  .refine((errors) => Object.keys(errors).length <= MAX_ATTRIBUTES)

export const AttributeCollectionSubmitResponseSchema = responseSchema(
  ATTRIBUTE_COLLECTION_SUBMIT_RESPONSE_DATA,
  z.discriminatedUnion('@odata.type', [
    actionSchema(SUBMIT_CONTINUE, {}),
    actionSchema(SUBMIT_MODIFY_ATTRIBUTE_VALUES, { attributes: OutboundAttributesSchema }),
    actionSchema(SUBMIT_SHOW_VALIDATION_ERROR, {
      message: z.string().min(1).max(ANSWER_TEXT_MAX.message),
      attributeErrors: AttributeErrorsSchema, // an object map keyed by the attribute's name
    }),
    actionSchema(SUBMIT_SHOW_BLOCK_PAGE, BlockPageFields),
  ]),
)
export type AttributeCollectionSubmitResponse = z.infer<
  typeof AttributeCollectionSubmitResponseSchema
>
