// OnPasswordSubmit: just-in-time password migration (docs/entra-contract.md §6b). The request
// carries the typed password encrypted (encryptedPasswordContext); the answer carries one action
// and the request's nonce, which the pipeline checks against the decrypted context.
import * as z from 'zod'
import { ANSWER_TEXT_MAX } from '../attribute-collection.js'
import { actionSchema, AuthenticationContextSchema, eventSchema, nullAsAbsent } from '../common.js'

export const PASSWORD_SUBMIT = 'microsoft.graph.authenticationEvent.passwordSubmit'
export const PASSWORD_SUBMIT_DATA = 'microsoft.graph.onPasswordSubmitCalloutData'
export const PASSWORD_SUBMIT_RESPONSE_DATA = 'microsoft.graph.onPasswordSubmitResponseData'

/**
 * The prefix of every action type, in one place (contract §9.14): the docs' response table writes
 * `microsoft.graph.passwordSubmit.<Action>`, their C# sample `microsoft.graph.passwordsubmit.…`
 * (lower-case s). We send the table's spelling; neither is verified against a tenant yet
 * (docs/password-migration.md).
 */
export const PASSWORD_SUBMIT_ACTION_PREFIX = 'microsoft.graph.passwordSubmit'
export const MIGRATE_PASSWORD = `${PASSWORD_SUBMIT_ACTION_PREFIX}.MigratePassword` as const
export const UPDATE_PASSWORD = `${PASSWORD_SUBMIT_ACTION_PREFIX}.UpdatePassword` as const
export const RETRY = `${PASSWORD_SUBMIT_ACTION_PREFIX}.Retry` as const
export const BLOCK = `${PASSWORD_SUBMIT_ACTION_PREFIX}.Block` as const

const UserSchema = z.object({
  id: z.string().max(64).nullish(),
  displayName: z.string().max(256).nullish(),
  userPrincipalName: z.string().max(320).nullish(),
  mail: z.string().max(320).nullish(),
  userType: z.string().max(32).nullish(),
})

export const PasswordSubmitEventSchema = eventSchema(PASSWORD_SUBMIT, PASSWORD_SUBMIT_DATA, {
  authenticationContext: AuthenticationContextSchema.extend({
    // Same shape as token issuance; any field may be absent, and the user object too.
    user: nullAsAbsent(UserSchema.default({})),
  }),
  // Any string: one that is not a compact JWE, or too long, is refused with the one fixed answer
  // of an undecryptable context (src/passwords/password-context.ts), not here naming the field.
  encryptedPasswordContext: z.string(),
})
export type PasswordSubmitEvent = z.infer<typeof PasswordSubmitEventSchema>

/** The nonce echoed back: Entra's is a GUID; bounded as the context's claim is. */
const NonceSchema = z.string().min(1).max(128)

export const PasswordSubmitResponseSchema = z.strictObject({
  data: z.strictObject({
    '@odata.type': z.literal(PASSWORD_SUBMIT_RESPONSE_DATA),
    actions: z.tuple([
      z.union([
        actionSchema(MIGRATE_PASSWORD, {}),
        actionSchema(UPDATE_PASSWORD, {}),
        actionSchema(RETRY, {}),
        actionSchema(BLOCK, {
          title: z.string().min(1).max(ANSWER_TEXT_MAX.title),
          message: z.string().min(1).max(ANSWER_TEXT_MAX.message),
        }),
      ]),
    ]),
    nonce: NonceSchema,
  }),
})
export type PasswordSubmitResponse = z.infer<typeof PasswordSubmitResponseSchema>
