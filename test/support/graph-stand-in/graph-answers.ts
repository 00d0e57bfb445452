// What the Graph stand-in's routes speak (core.ts serves them): the call a route gets, the answer
// it gives, Graph's error shape, and the $select and paging helpers resources share.

export type GraphApiVersion = 'v1.0' | 'beta'

/** One call: an HTTP request, or one request of a $batch. */
export interface GraphCall {
  readonly method: string
  readonly version: GraphApiVersion
  /** With the version, without the query: /v1.0/users */
  readonly path: string
  readonly query: URLSearchParams
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body, undefined when none. */
  readonly body: unknown
  readonly inBatch: boolean
}

export interface GraphAnswer {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

export interface GraphRoute {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  /** Matched against the path (version included); groups are passed to `answer`. */
  readonly path: RegExp
  /** The query options implemented, e.g. ['$select', '$filter']: any other answers 400… */
  readonly query?: readonly string[]
  /** …unless the route names, instead, the options it refuses (the others are ignored). */
  readonly unsupportedQuery?: readonly string[]
  answer(call: GraphCall, match: RegExpExecArray, origin: string): GraphAnswer
}

export interface GraphResource {
  readonly routes: readonly GraphRoute[]
}

/** A Graph error answer, thrown by routes. */
export class GraphStandInError extends Error {
  readonly status: number
  readonly code: string
  /** Sent with the error answer (e.g. Allow with a 405). */
  readonly headers: Readonly<Record<string, string>>
  constructor(
    status: number,
    code: string,
    message: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.status = status
    this.code = code
    this.headers = headers
  }
}

/** The ids of one call: Graph's request-id, and the client's client-request-id (echoed). */
export interface RequestIds {
  readonly requestId: string
  readonly clientRequestId: string
}

export const DEFAULT_ERRORS: Readonly<Record<number, readonly [string, string]>> = {
  400: ['Request_BadRequest', 'Invalid request.'],
  401: ['InvalidAuthenticationToken', 'Access token validation failure.'],
  403: ['Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'],
  404: ['Request_ResourceNotFound', 'Resource does not exist.'],
  429: ['TooManyRequests', 'Too many requests.'],
  500: ['UnknownError', 'An unknown error occurred.'],
  503: ['ServiceNotAvailable', 'The service is temporarily unavailable.'],
}

/** Graph's error body: { error: { code, message, innerError: { date, request-id, … } } }. */
export function errorAnswer(
  error: GraphStandInError,
  ids: RequestIds,
  headers: Record<string, string> = {},
): GraphAnswer {
  return {
    status: error.status,
    headers: { ...error.headers, ...headers },
    body: {
      error: {
        code: error.code,
        message: error.message,
        innerError: {
          date: new Date().toISOString().replace(/\.\d+Z$/, ''),
          'request-id': ids.requestId,
          'client-request-id': ids.clientRequestId,
        },
      },
    },
  }
}

/** Header names in lower case; values that are not strings are left out. */
export function lowerCase(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (headers === null || typeof headers !== 'object') return out
  for (const [name, value] of Object.entries(headers))
    if (typeof value === 'string') out[name.toLowerCase()] = value
  return out
}

/** $select, parsed: undefined when absent. */
export function selection(query: URLSearchParams): string[] | undefined {
  const select = query.get('$select')
  if (select === null) return undefined
  return select
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
}

/**
 * One page of `items`: $top (1-999, else `pageSize`) from the $skiptoken offset, with an absolute
 * @odata.nextLink that keeps the other query options.
 */
export function page(
  call: GraphCall,
  origin: string,
  items: readonly unknown[],
  options: { readonly pageSize: number; readonly context: string; readonly maxTop?: number },
): GraphAnswer {
  const top = call.query.get('$top')
  const size = top === null ? options.pageSize : Number(top)
  if (!Number.isInteger(size) || size < 1 || size > (options.maxTop ?? 999))
    throw new GraphStandInError(400, 'BadRequest', `Invalid page size specified: '${top}'.`)
  const skiptoken = call.query.get('$skiptoken')
  const offset = skiptoken === null ? 0 : Number(skiptoken)
  if (!Number.isInteger(offset) || offset < 0)
    throw new GraphStandInError(400, 'BadRequest', 'Invalid $skiptoken.')
  const body: Record<string, unknown> = {
    '@odata.context': `${origin}/${call.version}/$metadata#${options.context}`,
    value: items.slice(offset, offset + size),
  }
  if (offset + size < items.length) {
    const next = new URLSearchParams(call.query)
    next.set('$skiptoken', String(offset + size))
    const query = next.toString().replace(/\+/g, '%20').replace(/%24/g, '$')
    body['@odata.nextLink'] = `${origin}${call.path}?${query}`
  }
  return { status: 200, body }
}
