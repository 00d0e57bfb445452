// OnTokenIssuanceStart: what Entra sends (contract §4) and what we may answer.
import * as z from 'zod'
import {
  actionSchema,
  AuthenticationContextSchema,
  eventSchema,
  IdSchema,
  responseSchema,
} from '../common.js'

export const TOKEN_ISSUANCE_START = 'microsoft.graph.authenticationEvent.tokenIssuanceStart'
export const TOKEN_ISSUANCE_START_DATA = 'microsoft.graph.onTokenIssuanceStartCalloutData'
export const TOKEN_ISSUANCE_START_RESPONSE_DATA = 'microsoft.graph.onTokenIssuanceStartResponseData'
export const PROVIDE_CLAIMS_FOR_TOKEN = 'microsoft.graph.tokenIssuanceStart.provideClaimsForToken'

/**
 * Upper bounds of the user fields, in UTF-16 code units. They bound the inbound schema and the
 * worst-case claims size computed at start-up. Numbers follow Microsoft Graph's documented
 * limits where it has them (displayName 256, givenName/surname/companyName 64, UPN 113,
 * onPremisesSamAccountName 20); the others are generous caps.
 */
export const USER_FIELD_MAX_LENGTH = {
  id: 64,
  displayName: 256,
  givenName: 64,
  surname: 64,
  mail: 320,
  userPrincipalName: 320, // a guest's UPN (…#EXT#@tenant) can run past 113
  companyName: 64,
  createdDateTime: 40,
  onPremisesSamAccountName: 64,
  onPremisesSecurityIdentifier: 256,
  onPremisesUserPrincipalName: 320,
  preferredLanguage: 64,
  preferredDataLocation: 64,
  userType: 32,
} as const
export type UserField = keyof typeof USER_FIELD_MAX_LENGTH

const UserSchema = z.object({
  id: IdSchema.optional(),
  displayName: z.string().max(USER_FIELD_MAX_LENGTH.displayName).optional(),
  givenName: z.string().max(USER_FIELD_MAX_LENGTH.givenName).optional(),
  surname: z.string().max(USER_FIELD_MAX_LENGTH.surname).optional(),
  mail: z.string().max(USER_FIELD_MAX_LENGTH.mail).optional(),
  userPrincipalName: z.string().max(USER_FIELD_MAX_LENGTH.userPrincipalName).optional(),
  companyName: z.string().max(USER_FIELD_MAX_LENGTH.companyName).optional(),
  createdDateTime: z.string().max(USER_FIELD_MAX_LENGTH.createdDateTime).optional(),
  onPremisesSamAccountName: z
    .string()
    .max(USER_FIELD_MAX_LENGTH.onPremisesSamAccountName)
    .optional(),
  onPremisesSecurityIdentifier: z
    .string()
    .max(USER_FIELD_MAX_LENGTH.onPremisesSecurityIdentifier)
    .optional(),
  onPremisesUserPrincipalName: z
    .string()
    .max(USER_FIELD_MAX_LENGTH.onPremisesUserPrincipalName)
    .optional(),
  preferredLanguage: z.string().max(USER_FIELD_MAX_LENGTH.preferredLanguage).optional(),
  preferredDataLocation: z.string().max(USER_FIELD_MAX_LENGTH.preferredDataLocation).optional(),
  userType: z.string().max(USER_FIELD_MAX_LENGTH.userType).optional(),
})
export type TokenUser = z.infer<typeof UserSchema>

export const TokenIssuanceStartEventSchema = eventSchema(
  TOKEN_ISSUANCE_START,
  TOKEN_ISSUANCE_START_DATA,
  {
    authenticationContext: AuthenticationContextSchema.extend({
      // "Any field may be absent" (contract §4); a missing user object reads as an empty one.
      user: UserSchema.default({}),
    }),
  },
)
export type TokenIssuanceStartEvent = z.infer<typeof TokenIssuanceStartEventSchema>

/** Entra's limit on all claim keys and values together (contract §4, error 1003025). */
export const MAX_CLAIMS_BYTES = 3072
export const MAX_CLAIMS = 100
export const MAX_CLAIM_VALUES = 100

const ClaimValueSchema = z.union([z.string(), z.array(z.string()).max(MAX_CLAIM_VALUES)])
export type ClaimValue = z.infer<typeof ClaimValueSchema>

/**
 * The size Entra checks. The contract says "all claim keys and values ≤ 3 KB" without saying how
 * it counts; we count UTF-8 bytes of every key and every value (each array element), which is
 * what a byte limit on text most plausibly means. A guess: see README "Contract points".
 */
export function claimsSize(claims: Readonly<Record<string, ClaimValue>>): number {
  let bytes = 0
  for (const [key, value] of Object.entries(claims)) {
    bytes += Buffer.byteLength(key)
    if (typeof value === 'string') bytes += Buffer.byteLength(value)
    else for (const item of value) bytes += Buffer.byteLength(item)
  }
  return bytes
}

const ClaimsSchema = z
  .record(z.string().min(1, 'claim name must not be empty').max(256), ClaimValueSchema)
  .refine((claims) => Object.keys(claims).length <= MAX_CLAIMS, `at most ${MAX_CLAIMS} claims`)
  .refine(
    (claims) => claimsSize(claims) <= MAX_CLAIMS_BYTES,
    `claims exceed Entra's limit of ${MAX_CLAIMS_BYTES} bytes`,
  )

export const ProvideClaimsForTokenSchema = actionSchema(PROVIDE_CLAIMS_FOR_TOKEN, {
  claims: ClaimsSchema,
})

export const TokenIssuanceStartResponseSchema = responseSchema(
  TOKEN_ISSUANCE_START_RESPONSE_DATA,
  ProvideClaimsForTokenSchema,
)
export type TokenIssuanceStartResponse = z.infer<typeof TokenIssuanceStartResponseSchema>
