// OnTokenIssuanceStart: what Entra sends (contract §4) and what we may answer.
import * as z from 'zod'
import {
  actionSchema,
  AuthenticationContextSchema,
  eventSchema,
  IdSchema,
  nullAsAbsent,
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
  id: IdSchema.nullish(),
  displayName: z.string().max(USER_FIELD_MAX_LENGTH.displayName).nullish(),
  givenName: z.string().max(USER_FIELD_MAX_LENGTH.givenName).nullish(),
  surname: z.string().max(USER_FIELD_MAX_LENGTH.surname).nullish(),
  mail: z.string().max(USER_FIELD_MAX_LENGTH.mail).nullish(),
  userPrincipalName: z.string().max(USER_FIELD_MAX_LENGTH.userPrincipalName).nullish(),
  companyName: z.string().max(USER_FIELD_MAX_LENGTH.companyName).nullish(),
  createdDateTime: z.string().max(USER_FIELD_MAX_LENGTH.createdDateTime).nullish(),
  onPremisesSamAccountName: z
    .string()
    .max(USER_FIELD_MAX_LENGTH.onPremisesSamAccountName)
    .nullish(),
  onPremisesSecurityIdentifier: z
    .string()
    .max(USER_FIELD_MAX_LENGTH.onPremisesSecurityIdentifier)
    .nullish(),
  onPremisesUserPrincipalName: z
    .string()
    .max(USER_FIELD_MAX_LENGTH.onPremisesUserPrincipalName)
    .nullish(),
  preferredLanguage: z.string().max(USER_FIELD_MAX_LENGTH.preferredLanguage).nullish(),
  preferredDataLocation: z.string().max(USER_FIELD_MAX_LENGTH.preferredDataLocation).nullish(),
  userType: z.string().max(USER_FIELD_MAX_LENGTH.userType).nullish(),
})
export type TokenUser = z.infer<typeof UserSchema>

export const TokenIssuanceStartEventSchema = eventSchema(
  TOKEN_ISSUANCE_START,
  TOKEN_ISSUANCE_START_DATA,
  {
    authenticationContext: AuthenticationContextSchema.extend({
      // "Any field may be absent" (contract §4); a missing user object reads as an empty one.
      user: nullAsAbsent(UserSchema.default({})),
    }),
  },
)
export type TokenIssuanceStartEvent = z.infer<typeof TokenIssuanceStartEventSchema>

/** Entra's limit on all claim keys and values together (contract §4, error 1003025). */
export const MAX_CLAIMS_BYTES = 3072
export const MAX_CLAIMS = 100
export const MAX_CLAIM_VALUES = 100

export type ClaimValue = string | readonly string[]

/**
 * Why a claims bag breaks Entra's rules, or undefined when it is fine: a plain object of at most
 * MAX_CLAIMS non-empty names (≤ 256 characters), each a string or an array of at most
 * MAX_CLAIM_VALUES strings, MAX_CLAIMS_BYTES in all. The contract says "all claim keys and values
 * ≤ 3 KB" without saying how it counts; we count UTF-8 bytes of every name and every value (each
 * array element): a guess, listed in docs/decisions.md. One pass, written out by hand: it runs on
 * every answer, and a z.record of unions cost 2.6 times as much (bench/, profiled).
 */
export function claimsProblem(claims: unknown): string | undefined {
  if (
    typeof claims !== 'object' ||
    claims === null ||
    Object.getPrototypeOf(claims) !== Object.prototype
  ) {
    return 'claims must be an object'
  }
  let count = 0
  let bytes = 0
  for (const [name, value] of Object.entries(claims)) {
    if (++count > MAX_CLAIMS) return `at most ${MAX_CLAIMS} claims`
    if (name === '' || name.length > 256) return 'claim names must be 1-256 characters'
    bytes += Buffer.byteLength(name)
    if (typeof value === 'string') bytes += Buffer.byteLength(value)
    else if (Array.isArray(value) && value.length <= MAX_CLAIM_VALUES) {
      for (const item of value as unknown[]) {
        if (typeof item !== 'string')
          return `claim "${name}" must be a string or an array of strings`
        bytes += Buffer.byteLength(item)
      }
    } else
      return `claim "${name}" must be a string or an array of at most ${MAX_CLAIM_VALUES} strings`
  }
  return bytes > MAX_CLAIMS_BYTES
    ? `claims exceed Entra's limit of ${MAX_CLAIMS_BYTES} bytes`
    : undefined
}

const ClaimsSchema = z.custom<Record<string, ClaimValue>>(
  (claims) => claimsProblem(claims) === undefined,
  { error: (issue) => claimsProblem(issue.input) ?? 'invalid claims' },
)

export const ProvideClaimsForTokenSchema = actionSchema(PROVIDE_CLAIMS_FOR_TOKEN, {
  claims: ClaimsSchema,
})

export const TokenIssuanceStartResponseSchema = responseSchema(
  TOKEN_ISSUANCE_START_RESPONSE_DATA,
  ProvideClaimsForTokenSchema,
)
export type TokenIssuanceStartResponse = z.infer<typeof TokenIssuanceStartResponseSchema>
