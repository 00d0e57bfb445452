// OnPasswordSubmit (just-in-time password migration, preview): everything the product knows of
// this event.
import { PasswordSubmitConfigSchema } from '../../extension-config/password-submit.js'
import { decryptedContextOf } from '../../passwords/password-context.js'
import { defineEvent } from '../event.js'
import { passwordSubmitRegistration } from './registration.js'
import { passwordSubmitCode } from './code.js'
import { createPasswordSubmitHandler } from './handler.js'
import {
  BLOCK,
  MIGRATE_PASSWORD,
  PASSWORD_SUBMIT,
  PASSWORD_SUBMIT_RESPONSE_DATA,
  PasswordSubmitEventSchema,
  PasswordSubmitResponseSchema,
  RETRY,
  UPDATE_PASSWORD,
} from './schema.js'

export const passwordSubmit = defineEvent({
  name: 'onPasswordSubmit',
  type: PASSWORD_SUBMIT,
  request: PasswordSubmitEventSchema,
  response: PasswordSubmitResponseSchema,
  responseDataType: PASSWORD_SUBMIT_RESPONSE_DATA,
  actionTypes: [MIGRATE_PASSWORD, UPDATE_PASSWORD, RETRY, BLOCK],
  config: {
    key: 'passwordSubmit',
    schema: PasswordSubmitConfigSchema.prefault({}).describe(
      'OnPasswordSubmit (just-in-time password migration).',
    ),
    texts: (section) => [
      [['block', 'title'], section.block.title],
      [['block', 'message'], section.block.message],
      [['locked', 'title'], section.locked.title],
      [['locked', 'message'], section.locked.message],
    ],
  },
  registration: passwordSubmitRegistration,
  fixtures: ['password-submit'],
  createHandler: createPasswordSubmitHandler,
  code: passwordSubmitCode,
  // The answer's nonce must be the decrypted context's: an answer for another submission (or one
  // made without reading the context) is refused.
  answerProblem: (request, answer) => {
    const nonce = decryptedContextOf(request)?.nonce
    if (nonce === undefined) return 'the password context was not read'
    return answer.data.nonce === nonce ? undefined : "the nonce is not the request's"
  },
})
