// The error codes a sign-in log's customExtensionCalloutResult may carry (contract §8): what each
// means, and the usual fix.

export interface ExtensionErrorCode {
  readonly code: number
  readonly name: string
  readonly meaning: string
}

const TABLE: readonly (readonly [number, string, string])[] = [
  [1003000, 'EventHandlerUnexpectedError', 'Entra-side error while handling the event'],
  [1003001, 'CustomExtensionUnexpectedError', 'unexpected error calling the API'],
  [1003002, 'CustomExtensionInvalidHTTPStatus', 'the API answered a status other than 200'],
  [1003003, 'CustomExtensionInvalidResponseBody', 'body could not be parsed / wrong schema'],
  [1003004, 'CustomExtensionThrottlingError', 'too many extension calls (throttled)'],
  [
    1003005,
    'CustomExtensionTimedOut',
    'no answer within `timeoutInMilliseconds`; can also mean the token was rejected',
  ],
  [1003006, 'CustomExtensionInvalidResponseContentType', 'content type not `application/json`'],
  [1003007, 'CustomExtensionNullClaimsResponse', 'claims bag was null'],
  [
    1003008,
    'CustomExtensionInvalidResponseApiSchemaVersion',
    "schema version differs from the call's",
  ],
  [1003009, 'CustomExtensionEmptyResponse', 'empty body'],
  [1003010, 'CustomExtensionInvalidNumberOfActions', 'not exactly the supported number of actions'],
  [1003011, 'CustomExtensionNotFound', 'the listener points to a missing extension'],
  [1003012, 'CustomExtensionInvalidActionType', 'action type not valid for the event'],
  [
    1003014,
    'CustomExtensionIncorrectResourceIdFormat',
    'identifier URI not `api://{fqdn}/{appId}`',
  ],
  [1003015, 'CustomExtensionDomainNameDoesNotMatch', 'targetUrl host ≠ resourceId host'],
  [
    1003016,
    'CustomExtensionResourceServicePrincipalNotFound',
    'no service principal for the resource app',
  ],
  [1003017, 'CustomExtensionClientServicePrincipalNotFound', 'client service principal missing'],
  [1003018, 'CustomExtensionClientServiceDisabled', 'client service principal disabled'],
  [
    1003019,
    'CustomExtensionResourceServicePrincipalDisabled',
    'resource service principal disabled',
  ],
  [1003020, 'CustomExtensionIncorrectTargetUrlFormat', 'targetUrl not a valid https URL'],
  [
    1003021,
    'CustomExtensionPermissionNotGrantedToServicePrincipal',
    'no admin consent for `CustomAuthenticationExtension.Receive.Payload`',
  ],
  [
    1003022,
    'CustomExtensionMsGraphServicePrincipalDisabledOrNotFound',
    'Graph service principal missing/disabled',
  ],
  [1003023, 'CustomExtensionBlocked', 'endpoint blocked by the service'],
  [1003024, 'CustomExtensionResponseSizeExceeded', 'response too large'],
  [1003025, 'CustomExtensionResponseClaimsSizeExceeded', 'claims over the size limit (3 KB)'],
  [1003026, 'CustomExtensionNullOrEmptyClaimKeyNotSupported', 'a claim key null or empty'],
  [1003027, 'CustomExtensionConnectionError', 'could not connect to the API'],
]

export const EXTENSION_ERROR_CODES: ReadonlyMap<number, ExtensionErrorCode> = new Map(
  TABLE.map(([code, name, meaning]) => [code, Object.freeze({ code, name, meaning })]),
)

/** The table's entry, or an "unknown" one for a code the contract does not list. */
export function describeErrorCode(code: number): ExtensionErrorCode {
  return (
    EXTENSION_ERROR_CODES.get(code) ?? {
      code,
      name: 'Unknown',
      meaning: 'not in the documented table (contract §8)',
    }
  )
}
