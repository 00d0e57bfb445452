// OnAttributeCollectionSubmit (External ID sign-up, after the attribute page): everything the
// product knows of this event.
import {
  AttributeCollectionSubmitConfigSchema,
  submitTexts,
} from '../../extension-config/sign-up.js'
import { defineEvent } from '../event.js'
import { attributeCollectionSubmitCode } from './code.js'
import { createAttributeCollectionSubmitHandler } from './handler.js'
import {
  ATTRIBUTE_COLLECTION_SUBMIT,
  ATTRIBUTE_COLLECTION_SUBMIT_RESPONSE_DATA,
  AttributeCollectionSubmitEventSchema,
  AttributeCollectionSubmitResponseSchema,
  SUBMIT_CONTINUE,
  SUBMIT_MODIFY_ATTRIBUTE_VALUES,
  SUBMIT_SHOW_BLOCK_PAGE,
  SUBMIT_SHOW_VALIDATION_ERROR,
} from './schema.js'

export const attributeCollectionSubmit = defineEvent({
  name: 'onAttributeCollectionSubmit',
  type: ATTRIBUTE_COLLECTION_SUBMIT,
  request: AttributeCollectionSubmitEventSchema,
  response: AttributeCollectionSubmitResponseSchema,
  responseDataType: ATTRIBUTE_COLLECTION_SUBMIT_RESPONSE_DATA,
  actionTypes: [
    SUBMIT_CONTINUE,
    SUBMIT_MODIFY_ATTRIBUTE_VALUES,
    SUBMIT_SHOW_VALIDATION_ERROR,
    SUBMIT_SHOW_BLOCK_PAGE,
  ],
  config: {
    key: 'attributeCollectionSubmit',
    schema: AttributeCollectionSubmitConfigSchema.default({ block: [], attributes: {} }).describe(
      'OnAttributeCollectionSubmit (External ID sign-up, after the attribute page).',
    ),
    texts: submitTexts,
  },
  registration: {
    extensionType: '#microsoft.graph.onAttributeCollectionSubmitCustomExtension',
    listenerType: '#microsoft.graph.onAttributeCollectionSubmitListener',
    handlerType: '#microsoft.graph.onAttributeCollectionSubmitCustomExtensionHandler',
  },
  fixtures: [
    'attribute-collection-submit',
    'attribute-collection-submit-invalid',
    'attribute-collection-submit-local-account',
  ],
  createHandler: (section, { defaultLocale, remoteValidator }) =>
    createAttributeCollectionSubmitHandler(section, defaultLocale, remoteValidator),
  code: attributeCollectionSubmitCode,
})
