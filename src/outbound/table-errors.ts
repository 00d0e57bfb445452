// What a failed Azure Table Storage call says, read from @azure/data-tables' RestError without
// importing the library (the stores load it on first use): its HTTP status and the service's error
// code. Shared by the OTP store (src/mail) and OnPasswordSubmit's hash table (src/passwords).

/** The HTTP status of a failed table call (409 exists, 412 ETag mismatch, 404 missing). */
export const statusOf = (err: unknown) =>
  typeof err === 'object' && err !== null && 'statusCode' in err
    ? (err as { statusCode?: number }).statusCode
    : undefined

/**
 * The Table service's error code of a failed call (`ResourceNotFound`, `TableNotFound`, ...), from
 * the RestError's details (the x-ms-error-code header or the OData error body); a fixed token, safe
 * to log when it has this shape.
 */
export function tableErrorCode(err: unknown): string | undefined {
  const details =
    typeof err === 'object' && err !== null && 'details' in err
      ? (err as { details?: unknown }).details
      : undefined
  if (typeof details !== 'object' || details === null) return undefined
  const { errorCode, odataError } = details as { errorCode?: unknown; odataError?: unknown }
  const code =
    typeof errorCode === 'string'
      ? errorCode
      : typeof odataError === 'object' && odataError !== null
        ? (odataError as { code?: unknown }).code
        : undefined
  return typeof code === 'string' && /^[A-Za-z]{1,64}$/.test(code) ? code : undefined
}
