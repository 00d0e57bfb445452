// The error codes a sign-in log's customExtensionCalloutResult may carry (contract §8): what each
// means, the usual fix with this endpoint, and the reason a failure is charted under.

export interface ExtensionErrorCode {
  readonly code: number
  readonly name: string
  readonly meaning: string
}

/** What a failed call is charted under, from its last attempt's errorCode and httpStatus. */
export const FAILURE_REASONS = ['timeout', 'http4xx', 'http5xx', 'connection', 'other'] as const
export type FailureReason = (typeof FAILURE_REASONS)[number]

export const FAILURE_REASON_LABELS: Readonly<Record<FailureReason, string>> = {
  timeout: 'timeout',
  http4xx: '401/4xx',
  http5xx: '5xx',
  connection: 'connection',
  other: 'other',
}

/** The anchor in docs/operations.md that explains an Entra error code and its fix. */
export const docsAnchor = (code: number): string => `entra-${code}`

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

const REGISTRATION = 'a registration problem: `npm run doctor` names it and the fix'
const OUR_ANSWER =
  "our answer's shape: should not happen (answers are schema-checked); report it with the endpoint's log line"

/** The usual fix with this endpoint, per code (docs/operations.md has the same text). */
const FIXES: ReadonlyMap<number, string> = new Map([
  [1003000, 'Entra-side: retry; if it persists, open a support case with the correlation IDs'],
  [1003001, "look up the correlation IDs in the endpoint's log; a reset connection or TLS problem"],
  [
    1003002,
    "one of our error answers: the endpoint's `auth_event` line for the correlation ID has the `ERR_` code (401: `ENTRA_AUDIENCE` / `ENTRA_ISSUER`; 5xx: a source or the mail provider)",
  ],
  [1003003, 'a proxy rewriting bodies, or ' + OUR_ANSWER],
  [1003004, 'Entra throttled the calls: fewer calls per sign-in, or ask Microsoft about limits'],
  [
    1003005,
    'keep `REQUEST_BUDGET_MS` under the registered `timeoutInMilliseconds`; always-ready instances against cold starts; or something in front rejected the token',
  ],
  [1003006, 'a proxy in front changed the content type'],
  [1003007, OUR_ANSWER],
  [1003008, OUR_ANSWER],
  [1003009, 'a proxy in front, or ' + OUR_ANSWER],
  [1003010, OUR_ANSWER],
  [1003011, 'the listener names a deleted extension: run `npm run register` again'],
  [1003012, "the extension's targetUrl points at another event's route"],
  [1003014, 'identifier URI must be `api://{host of targetUrl}/{appId}`: ' + REGISTRATION],
  [1003015, 'identifier URI must be `api://{host of targetUrl}/{appId}`: ' + REGISTRATION],
  [1003016, REGISTRATION],
  [1003017, REGISTRATION],
  [1003018, REGISTRATION],
  [1003019, REGISTRATION],
  [1003020, 'targetUrl must be an https URL: ' + REGISTRATION],
  [1003021, 'grant admin consent for `CustomAuthenticationExtension.Receive.Payload`'],
  [1003022, REGISTRATION],
  [1003023, 'the service blocked the endpoint: contact Microsoft support'],
  [1003024, 'narrow `select`, lower `maxItems` or filter with `filterPrefix`'],
  [1003025, 'narrow `select`, lower `maxItems` or filter with `filterPrefix`'],
  [1003026, 'cannot come from a configuration that started: both are checked at start-up'],
  [1003027, 'wrong targetUrl, the Function App stopped, DNS or TLS certificate problems'],
])

/** The table's entry, or an "unknown" one for a code the contract does not list. */
export function describeErrorCode(code: number): ExtensionErrorCode {
  return (
    EXTENSION_ERROR_CODES.get(code) ?? {
      code,
      name: 'Unknown',
      meaning: 'not in the documented table (docs/entra-contract.md §8)',
    }
  )
}

/** The usual fix for a code, or what to do about one the table does not list. */
export function fixFor(code: number): string {
  return (
    FIXES.get(code) ??
    "not documented: look up the correlation IDs in the endpoint's log, and check Microsoft's list of codes"
  )
}

/**
 * Which reason a failed call counts under: the connection and timeout codes first, then the last
 * attempt's HTTP status (401/4xx, 5xx), else "other".
 */
export function failureReason(
  httpStatus: number | null | undefined,
  errorCode: number | null | undefined,
): FailureReason {
  if (errorCode === 1003027) return 'connection'
  if (errorCode === 1003005) return 'timeout'
  if (typeof httpStatus === 'number' && httpStatus >= 400 && httpStatus < 500) return 'http4xx'
  if (typeof httpStatus === 'number' && httpStatus >= 500 && httpStatus < 600) return 'http5xx'
  return 'other'
}
