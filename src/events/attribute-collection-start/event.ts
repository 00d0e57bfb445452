// OnAttributeCollectionStart (External ID sign-up, before the attribute page): everything the
// product knows of this event.
import { AttributeCollectionStartConfigSchema, startTexts } from '../../extension-config/sign-up.js'
import { defineEvent } from '../event.js'
import { attributeCollectionStartCode } from './code.js'
import { createAttributeCollectionStartHandler } from './handler.js'
import {
  ATTRIBUTE_COLLECTION_START,
  ATTRIBUTE_COLLECTION_START_RESPONSE_DATA,
  AttributeCollectionStartEventSchema,
  AttributeCollectionStartResponseSchema,
  START_CONTINUE,
  START_SET_PREFILL_VALUES,
  START_SHOW_BLOCK_PAGE,
} from './schema.js'

export const attributeCollectionStart = defineEvent({
  name: 'onAttributeCollectionStart',
  type: ATTRIBUTE_COLLECTION_START,
  request: AttributeCollectionStartEventSchema,
  response: AttributeCollectionStartResponseSchema,
  responseDataType: ATTRIBUTE_COLLECTION_START_RESPONSE_DATA,
  actionTypes: [START_CONTINUE, START_SET_PREFILL_VALUES, START_SHOW_BLOCK_PAGE],
  config: {
    key: 'attributeCollectionStart',
    schema: AttributeCollectionStartConfigSchema.default({ prefill: {}, block: [] }).describe(
      'OnAttributeCollectionStart (External ID sign-up, before the attribute page).',
    ),
    texts: startTexts,
  },
  registration: {
    extensionType: '#microsoft.graph.onAttributeCollectionStartCustomExtension',
    listenerType: '#microsoft.graph.onAttributeCollectionStartListener',
    handlerType: '#microsoft.graph.onAttributeCollectionStartCustomExtensionHandler',
  },
  fixtures: ['attribute-collection-start'],
  createHandler: (section, { defaultLocale }) =>
    createAttributeCollectionStartHandler(section, defaultLocale),
  code: attributeCollectionStartCode,
})
