// Pure builders of the OnAttributeCollectionStart answers (contract §5). No I/O.
import {
  ATTRIBUTE_COLLECTION_START_RESPONSE_DATA,
  START_CONTINUE,
  START_SET_PREFILL_VALUES,
  START_SHOW_BLOCK_PAGE,
  type AttributeCollectionStartResponse,
} from './schema.js'

type StartAction = AttributeCollectionStartResponse['data']['actions'][0]
type AttributeValues = Readonly<Record<string, string | number | boolean>>

const respond = (action: StartAction): AttributeCollectionStartResponse => ({
  data: { '@odata.type': ATTRIBUTE_COLLECTION_START_RESPONSE_DATA, actions: [action] },
})

export const continueSignUp = () => respond({ '@odata.type': START_CONTINUE })

export const setPrefillValues = (inputs: AttributeValues) =>
  respond({ '@odata.type': START_SET_PREFILL_VALUES, inputs: { ...inputs } })

export const showStartBlockPage = (message: string, title?: string) =>
  respond({
    '@odata.type': START_SHOW_BLOCK_PAGE,
    message,
    ...(title === undefined ? {} : { title }),
  })
