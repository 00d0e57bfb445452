// Pure builders of the OnTokenIssuanceStart answer (contract §4). No I/O.
import {
  PROVIDE_CLAIMS_FOR_TOKEN,
  TOKEN_ISSUANCE_START_RESPONSE_DATA,
  type ClaimValue,
  type TokenIssuanceStartResponse,
} from './schema.js'

export type Claims = Readonly<Record<string, ClaimValue>>

export function provideClaimsForToken(claims: Claims): TokenIssuanceStartResponse {
  return {
    data: {
      '@odata.type': TOKEN_ISSUANCE_START_RESPONSE_DATA,
      actions: [{ '@odata.type': PROVIDE_CLAIMS_FOR_TOKEN, claims: { ...claims } }],
    },
  }
}
