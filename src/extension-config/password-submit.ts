// EXTENSION_CONFIG passwordSubmit: how OnPasswordSubmit checks a password (`check`, by `mode`), the
// attempt limit and the block pages. The key and the hashes' store come from the environment
// (PASSWORD_DECRYPTION_KEY_*, PASSWORD_HASHES_*); secrets only by the name of an app setting.
import * as z from 'zod'
import { ANSWER_TEXT_MAX } from '../events/attribute-collection.js'
import { isSecureUrl } from '../secure-url.js'
import { localizedText } from './localized-text.js'
import { RemoteAuthSchema, SECRET_SETTING } from './sign-up.js'

const HashesCheckSchema = z
  .strictObject({ mode: z.literal('hashes') })
  .describe(
    "The legacy hashes, from PASSWORD_HASHES_FILE or PASSWORD_HASHES_CONNECTION_STRING's table.",
  )

export const CHECK_OUTCOMES = ['valid', 'invalid', 'locked', 'weak'] as const

const StatusSchema = z.number().int().min(100).max(599)

/** One line of the legacyApi answer mapping: every condition given must hold; first match wins. */
const AnswerRuleSchema = z
  .strictObject({
    status: z
      .union([StatusSchema, z.array(StatusSchema).min(1).max(20)])
      .optional()
      .describe('The HTTP status, or one of these.'),
    field: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,3}$/,
        'must be a field name, or a dotted path',
      )
      .optional()
      .describe('A field of the JSON answer (a dotted path for a nested one), with `equals`.'),
    equals: z
      .union([z.string().max(256), z.number(), z.boolean()])
      .optional()
      .describe('The value `field` must hold.'),
    outcome: z.enum(CHECK_OUTCOMES),
  })
  .refine((rule) => (rule.field === undefined) === (rule.equals === undefined), {
    message: 'set "field" and "equals" together',
  })
  .refine((rule) => rule.status !== undefined || rule.field !== undefined, {
    message: 'set "status", "field" (with "equals"), or both',
  })
export type AnswerRule = z.output<typeof AnswerRuleSchema>

const CallUrlSchema = z
  .string()
  .refine(isSecureUrl, 'must be an https URL (http only for loopback hosts)')
  .refine((url) => !/[{}]/.test(url), 'takes no placeholders: it is called exactly as written')

const TimeoutSchema = z
  .number()
  .int()
  .min(50)
  .max(1800)
  .default(1000)
  .describe('Its own timeout; the request deadline (REQUEST_BUDGET_MS) caps it.')

const LegacyApiCheckSchema = z
  .strictObject({
    mode: z.literal('legacyApi'),
    url: CallUrlSchema.describe('POSTed {"username", "password"} as JSON.'),
    timeoutMs: TimeoutSchema,
    auth: RemoteAuthSchema.optional(),
    answers: z
      .array(AnswerRuleSchema)
      .min(1)
      .max(20)
      .describe(
        'How the answer maps to valid / invalid / locked / weak, first match wins; an answer no rule maps is the API failing (503).',
      ),
  })
  .describe("The customer's own verification API.")

const RopcCheckSchema = z
  .strictObject({
    mode: z.literal('ropc'),
    tokenUrl: CallUrlSchema.describe("The legacy OpenID provider's token endpoint."),
    clientId: z.string().min(1).max(256),
    clientSecretSetting: z
      .string()
      .regex(SECRET_SETTING, 'must be an app setting name (letters, digits, _)')
      .optional()
      .describe('The app setting holding the client secret (omit for a public client).'),
    scope: z.string().min(1).max(1024).default('openid'),
    timeoutMs: TimeoutSchema,
  })
  .describe(
    'An OAuth 2.0 resource-owner password grant: a token is valid, invalid_grant is invalid, anything else is the provider failing (503).',
  )

export const PasswordCheckSchema = z.discriminatedUnion('mode', [
  HashesCheckSchema,
  LegacyApiCheckSchema,
  RopcCheckSchema,
])
export type LegacyApiCheckConfig = z.output<typeof LegacyApiCheckSchema>
export type RopcCheckConfig = z.output<typeof RopcCheckSchema>
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
