// Pure builders of the OnAttributeCollectionSubmit answers (contract §5). No I/O.
import {
  ATTRIBUTE_COLLECTION_SUBMIT_RESPONSE_DATA,
  SUBMIT_CONTINUE,
  SUBMIT_MODIFY_ATTRIBUTE_VALUES,
  SUBMIT_SHOW_BLOCK_PAGE,
  SUBMIT_SHOW_VALIDATION_ERROR,
  type AttributeCollectionSubmitResponse,
} from './schema.js'

type SubmitAction = AttributeCollectionSubmitResponse['data']['actions'][0]
type AttributeValues = Readonly<Record<string, string | number | boolean>>

const respond = (action: SubmitAction): AttributeCollectionSubmitResponse => ({
  data: { '@odata.type': ATTRIBUTE_COLLECTION_SUBMIT_RESPONSE_DATA, actions: [action] },
})

export const continueSubmit = () => respond({ '@odata.type': SUBMIT_CONTINUE })

export const modifyAttributeValues = (attributes: AttributeValues) =>
  respond({ '@odata.type': SUBMIT_MODIFY_ATTRIBUTE_VALUES, attributes: { ...attributes } })

export const showValidationError = (
  message: string,
  attributeErrors: Readonly<Record<string, string>>,
) =>
  respond({
    '@odata.type': SUBMIT_SHOW_VALIDATION_ERROR,
    message,
    attributeErrors: { ...attributeErrors },
  })

export const showSubmitBlockPage = (message: string, title?: string) =>
  respond({
    '@odata.type': SUBMIT_SHOW_BLOCK_PAGE,
    message,
    ...(title === undefined ? {} : { title }),
  })
