// EXTENSION_CONFIG passwordSubmit: how OnPasswordSubmit checks a password (`check`, by `mode`), the
// attempt limit and the block pages. The key and the hashes' store come from the environment
// (PASSWORD_DECRYPTION_KEY_*, PASSWORD_HASHES_*); secrets only by the name of an app setting.
import * as z from 'zod'
import { ANSWER_TEXT_MAX } from '../events/attribute-collection.js'
import { localizedText } from './localized-text.js'

const HashesCheckSchema = z
  .strictObject({ mode: z.literal('hashes') })
  .describe(
    "The legacy hashes, from PASSWORD_HASHES_FILE or PASSWORD_HASHES_CONNECTION_STRING's table.",
  )

export const PasswordCheckSchema = z.discriminatedUnion('mode', [HashesCheckSchema])
export type PasswordCheckConfig = z.output<typeof PasswordCheckSchema>
export type PasswordCheckMode = PasswordCheckConfig['mode']

export const PasswordSubmitConfigSchema = z.strictObject({
  check: PasswordCheckSchema.default({ mode: 'hashes' }).describe(
    'How the typed password is checked against the legacy system (default: hashes).',
  ),
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
  locked: z
    .strictObject({
      title: localizedText(ANSWER_TEXT_MAX.title).default('Account locked'),
      message: localizedText(ANSWER_TEXT_MAX.message).default(
        'Your account is locked. Contact support, or reset your password.',
      ),
    })
    .prefault({})
    .describe('The block page shown when the legacy system says the account is locked.'),
})
export type PasswordSubmitConfig = z.output<typeof PasswordSubmitConfigSchema>
