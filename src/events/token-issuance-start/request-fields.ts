// The request values a claim may be taken from, by name, with their upper bounds. A closed table,
// not a path walker: configuration cannot reach anything the schema did not validate.
import { USER_FIELD_MAX_LENGTH, type TokenIssuanceStartEvent, type UserField } from './schema.js'

interface RequestField {
  /** null and undefined both mean absent (inbound schemas accept either). */
  readonly read: (event: TokenIssuanceStartEvent) => string | null | undefined
  /** Upper bound in code points: the inbound schema's `max`, which zod counts in code points. */
  readonly maxLength: number
}

const context = (event: TokenIssuanceStartEvent) => event.data.authenticationContext
const userField = (field: UserField): RequestField => ({
  read: (event) => context(event).user[field],
  maxLength: USER_FIELD_MAX_LENGTH[field],
})

export const REQUEST_FIELDS = {
  'user.id': userField('id'),
  'user.displayName': userField('displayName'),
  'user.givenName': userField('givenName'),
  'user.surname': userField('surname'),
  'user.mail': userField('mail'),
  'user.userPrincipalName': userField('userPrincipalName'),
  'user.companyName': userField('companyName'),
  'user.createdDateTime': userField('createdDateTime'),
  'user.onPremisesSamAccountName': userField('onPremisesSamAccountName'),
  'user.onPremisesSecurityIdentifier': userField('onPremisesSecurityIdentifier'),
  'user.onPremisesUserPrincipalName': userField('onPremisesUserPrincipalName'),
  'user.preferredLanguage': userField('preferredLanguage'),
  'user.preferredDataLocation': userField('preferredDataLocation'),
  'user.userType': userField('userType'),
  correlationId: { read: (event) => context(event).correlationId, maxLength: 36 },
  protocol: { read: (event) => context(event).protocol, maxLength: 32 },
  'client.locale': { read: (event) => context(event).client?.locale, maxLength: 64 },
  'client.market': { read: (event) => context(event).client?.market, maxLength: 64 },
  'clientServicePrincipal.appId': {
    read: (event) => context(event).clientServicePrincipal?.appId,
    maxLength: 64,
  },
  'clientServicePrincipal.displayName': {
    read: (event) => context(event).clientServicePrincipal?.displayName,
    maxLength: 256,
  },
  'resourceServicePrincipal.appId': {
    read: (event) => context(event).resourceServicePrincipal?.appId,
    maxLength: 64,
  },
  'resourceServicePrincipal.displayName': {
    read: (event) => context(event).resourceServicePrincipal?.displayName,
    maxLength: 256,
  },
} as const satisfies Record<string, RequestField>

export type RequestFieldName = keyof typeof REQUEST_FIELDS
export const REQUEST_FIELD_NAMES = Object.keys(REQUEST_FIELDS) as [
  RequestFieldName,
  ...RequestFieldName[],
]

/** UTF-8 needs at most 4 bytes per code point (zod's `max` counts code points, not UTF-16 units:
 * 256 emoji pass a max of 256 and take 1024 bytes). */
export function maxUtf8Bytes(field: RequestFieldName): number {
  return REQUEST_FIELDS[field].maxLength * 4
}
