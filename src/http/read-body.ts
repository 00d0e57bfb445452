// Reads a request body up to a byte limit, counting while it streams, so a huge or endless body is
// refused without being buffered. A declared Content-Length over the limit is refused unread.
// Host-neutral: the body is read as an async iterable (the Functions host's web stream, the local
// host's request stream). The stream is not destroyed early: the 413 answer travels on its socket,
// and the host closes the connection after it (error-reply.ts sets `connection: close`).
import type { Deadline } from '../deadline.js'
import { EndpointError } from '../errors.js'
import type { IncomingCall } from './types.js'

export async function readBoundedBody(
  call: IncomingCall,
  maxBytes: number,
  deadline: Deadline,
): Promise<Buffer> {
  const declared = call.headers.get('content-length')
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes)
  }
  const body = call.body
  if (body === null) return Buffer.alloc(0)
  const reading = readIterable(body, maxBytes)
  return deadline.race(reading, () => {
    return new EndpointError(
      'ERR_REQUEST_TIMEOUT',
      'the body did not arrive within the request budget',
    )
  })
}

const tooLarge = (maxBytes: number) =>
  new EndpointError('ERR_BODY_TOO_LARGE', `body exceeds ${maxBytes} bytes`)
const unreadable = (cause: unknown) =>
  new EndpointError('ERR_MALFORMED_JSON', 'the body could not be read', { cause })

async function readIterable(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer> {
  // Iterated by hand: leaving a for-await early would cancel the stream under the answer.
  const iterator = body[Symbol.asyncIterator]()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    let next: IteratorResult<Uint8Array>
    try {
      next = await iterator.next()
    } catch (err) {
      throw unreadable(err)
    }
    if (next.done === true) break
    total += next.value.byteLength
    if (total > maxBytes) throw tooLarge(maxBytes)
    chunks.push(next.value)
  }
  return Buffer.concat(chunks)
}
