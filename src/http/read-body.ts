// Reads a request body up to a byte limit, counting while it streams, so a huge or endless body is
// refused without being buffered. A declared Content-Length over the limit is refused unread.
import { raceSignal } from '../deadline.js'
import { EndpointError } from '../errors.js'
import type { IncomingCall } from './types.js'

export async function readBoundedBody(
  call: IncomingCall,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Buffer> {
  const tooLarge = () => new EndpointError('ERR_BODY_TOO_LARGE', `body exceeds ${maxBytes} bytes`)
  const declared = call.headers.get('content-length')
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge()
  if (call.body === null) return Buffer.alloc(0)

  // Iterate by hand: leaving a for-await early would destroy a Node request stream, and with it the
  // socket our 413 answer has to travel on. The host closes the connection after the answer.
  const iterator = call.body[Symbol.asyncIterator]()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const next = await nextOrDeadline(iterator, signal)
    if (next.done === true) break
    total += next.value.byteLength
    if (total > maxBytes) throw tooLarge()
    chunks.push(next.value)
  }
  return chunks.length === 1 && Buffer.isBuffer(chunks[0]) ? chunks[0] : Buffer.concat(chunks)
}

function nextOrDeadline(
  iterator: AsyncIterator<Uint8Array>,
  signal: AbortSignal,
): Promise<IteratorResult<Uint8Array>> {
  const next = iterator.next().catch((err: unknown) => {
    throw new EndpointError('ERR_MALFORMED_JSON', 'the body could not be read', { cause: err })
  })
  return raceSignal(
    next,
    signal,
    () =>
      new EndpointError('ERR_REQUEST_TIMEOUT', 'the body did not arrive within the request budget'),
  )
}
