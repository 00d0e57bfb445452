// OnTokenIssuanceStart (custom claims provider): everything the product knows of this event.
import { defineEvent } from '../event.js'
import { tokenIssuanceStartRegistration } from './registration.js'
import { tokenIssuanceStartCode } from './code.js'
import { TokenIssuanceStartConfigSchema } from './config.js'
import { createTokenIssuanceStartHandler } from './handler.js'
import {
  PROVIDE_CLAIMS_FOR_TOKEN,
  TOKEN_ISSUANCE_START,
  TOKEN_ISSUANCE_START_RESPONSE_DATA,
  TokenIssuanceStartEventSchema,
  TokenIssuanceStartResponseSchema,
} from './schema.js'

export const tokenIssuanceStart = defineEvent({
  name: 'onTokenIssuanceStart',
  type: TOKEN_ISSUANCE_START,
  request: TokenIssuanceStartEventSchema,
  response: TokenIssuanceStartResponseSchema,
  responseDataType: TOKEN_ISSUANCE_START_RESPONSE_DATA,
  actionTypes: [PROVIDE_CLAIMS_FOR_TOKEN],
  config: {
    key: 'tokenIssuanceStart',
    schema: TokenIssuanceStartConfigSchema.default({ sources: {}, claims: {} }).describe(
      'OnTokenIssuanceStart (custom claims provider).',
    ),
  },
  registration: tokenIssuanceStartRegistration,
  fixtures: ['token-issuance-start', 'token-issuance-start-guest'],
  createHandler: (section, { sources }) =>
    createTokenIssuanceStartHandler(section.claims, section.sources, sources),
  code: tokenIssuanceStartCode,
})
