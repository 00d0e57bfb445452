// EXTENSION_CONFIG passwordSubmit: the attempt limit and the block page of OnPasswordSubmit. The
// key and the hashes come from the environment (PASSWORD_DECRYPTION_KEY_PATH, PASSWORD_HASHES_FILE).
import * as z from 'zod'
import { ANSWER_TEXT_MAX } from '../events/attribute-collection.js'
import { localizedText } from './localized-text.js'

export const PasswordSubmitConfigSchema = z.strictObject({
  attemptLimit: z
    .strictObject({
      maxAttempts: z.number().int().min(1).max(100).default(5),
      windowSeconds: z.number().int().min(60).max(86_400).default(900),
    })
    .prefault({})
    .describe('Password checks per username in a sliding window; past it the answer is Block.'),
  block: z
    .strictObject({
      title: localizedText(ANSWER_TEXT_MAX.title).default('Sign-in blocked'),
      message: localizedText(ANSWER_TEXT_MAX.message).default(
        'Too many sign-in attempts. Try again later, or reset your password.',
      ),
    })
    .prefault({})
    .describe('The block page shown past the attempt limit.'),
})
export type PasswordSubmitConfig = z.output<typeof PasswordSubmitConfigSchema>
