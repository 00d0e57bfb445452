// One outbound JSON call under the request deadline: its own timeout, the caller's signal, no
// redirects (the URL is the one configuration names), a bounded answer. Every failure becomes an
// OutboundError whose `reason` is safe to log (no URL query, no body, no header values).
import { abortAfter, type CallSignal } from './abort-after.js'
export type OutboundFailure =
  'timeout' | 'deadline' | 'network' | 'status' | 'too-large' | 'not-json'

export class OutboundError extends Error {
  override readonly name = 'OutboundError'
  readonly failure: OutboundFailure
  readonly status: number | undefined

  constructor(
    failure: OutboundFailure,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause })
    this.failure = failure
    this.status = options.status
  }
}

export interface FetchJsonOptions {
  readonly method: 'GET' | 'POST'
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: unknown
  /** An `application/x-www-form-urlencoded` body instead of JSON (an OAuth token request). */
  readonly form?: URLSearchParams
  /**
   * Resolve with any status, the caller mapping it; the body is then undefined when it is not
   * JSON. Otherwise only a 2xx JSON answer resolves.
   */
  readonly anyStatus?: boolean
  /** This call's own limit; the request deadline (`signal`) may end it sooner. */
  readonly timeoutMs: number
  readonly signal: AbortSignal
  readonly maxBytes: number
}

export interface JsonAnswer {
  readonly status: number
  readonly body: unknown
}

/** Resolves with a 2xx answer's parsed JSON; anything else rejects with an OutboundError. */
export async function fetchJson(url: string, options: FetchJsonOptions): Promise<JsonAnswer> {
  const call = abortAfter(options.signal, options.timeoutMs)
  try {
    return await fetchJsonWithin(url, options, call)
  } finally {
    call.dispose()
  }
}

async function fetchJsonWithin(
  url: string,
  options: FetchJsonOptions,
  call: CallSignal,
): Promise<JsonAnswer> {
  const { signal } = call
  const failed = (err: unknown) =>
    options.signal.aborted
      ? new OutboundError('deadline', 'the request deadline passed', { cause: err })
      : call.timedOut()
        ? new OutboundError('timeout', `no answer within ${options.timeoutMs} ms`, { cause: err })
        : new OutboundError('network', 'the connection failed', { cause: err })
  let res: Response
  try {
    res = await fetch(url, {
      method: options.method,
      signal,
      redirect: 'manual', // a 3xx comes back as itself and fails below as a status
      headers: {
        accept: 'application/json',
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.form !== undefined
        ? { body: options.form }
        : options.body === undefined
          ? {}
          : { body: JSON.stringify(options.body) }),
    })
  } catch (err) {
    throw failed(err)
  }
  let text: string
  try {
    text = await readLimited(res, options.maxBytes)
  } catch (err) {
    if (err instanceof OutboundError) throw err
    throw failed(err)
  }
  if (options.anyStatus === true) {
    let body: unknown
    try {
      body = JSON.parse(text) as unknown
    } catch {
      body = undefined
    }
    return { status: res.status, body }
  }
  if (res.status < 200 || res.status > 299) {
    const redirect = res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''
    throw new OutboundError('status', `answered HTTP ${res.status}${redirect}`, {
      status: res.status,
    })
  }
  try {
    return { status: res.status, body: JSON.parse(text) as unknown }
  } catch (err) {
    throw new OutboundError('not-json', 'answered something other than JSON', { cause: err })
  }
}

/**
 * A response body as text, read only up to `maxBytes`: more (declared or streamed) rejects with
 * `tooLarge()` and abandons the rest. Every outbound call of the endpoint reads through this.
 */
export async function readLimited(
  res: Response,
  maxBytes: number,
  tooLarge: () => Error = () =>
    new OutboundError('too-large', `answered more than ${maxBytes} bytes`),
): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > maxBytes) {
    await res.body?.cancel()
    throw tooLarge()
  }
  if (res.body === null) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  // undici's body stream yields Uint8Array chunks; the DOM-less typings leave them untyped.
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    // Leaving the loop early cancels the stream (and the connection) for us.
    if (size > maxBytes) throw tooLarge()
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}
