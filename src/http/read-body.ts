// Reads a request body up to a byte limit, counting while it streams, so a huge or endless body is
// refused without being buffered. A declared Content-Length over the limit is refused unread.
// Two readers, one contract: Node streams (the local host) through their events, which costs one
// promise per body instead of one per chunk; any other async iterable (the Functions host's web
// stream) by iteration. Neither destroys the stream early: the 413 answer travels on its socket,
// and the host closes the connection after it (error-reply.ts sets `connection: close`).
import type { Readable } from 'node:stream'
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
  let reading: Promise<Buffer>
  if (isNodeStream(body)) {
    const held = takeCompleteBody(body, maxBytes)
    if (held !== undefined) return held
    reading = readNodeStream(body, maxBytes)
  } else {
    reading = readIterable(body, maxBytes)
  }
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

function isNodeStream(
  body: AsyncIterable<Uint8Array>,
): body is AsyncIterable<Uint8Array> & Readable {
  return (
    typeof (body as Partial<Readable>).on === 'function' &&
    typeof (body as Partial<Readable>).pause === 'function'
  )
}

/**
 * Node emits 'request' while it is still parsing, so a caller that reads at once finds the body
 * incomplete and takes the event path. After an asynchronous step (verifying a token that is not
 * cached yet) the parser usually has it all: `complete` says so, and read() hands it over with no
 * events and no promise. Undefined when the body is still arriving.
 */
function takeCompleteBody(stream: Readable, maxBytes: number): Buffer | undefined {
  if (
    (stream as Readable & { complete?: boolean }).complete !== true ||
    stream.readableFlowing === true
  ) {
    return undefined
  }
  if (stream.readableLength > maxBytes) throw tooLarge(maxBytes)
  const held = stream.read() as Buffer | null
  return held ?? Buffer.alloc(0)
}

function readNodeStream(stream: Readable, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    const done = (settle: () => void) => {
      stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose)
      settle()
    }
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength
      if (total > maxBytes) {
        stream.pause()
        done(() => reject(tooLarge(maxBytes)))
      } else chunks.push(chunk)
    }
    const onEnd = () =>
      done(() => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)))
    const onError = (err: unknown) => done(() => reject(unreadable(err)))
    // A client that goes away mid-body: nothing more will come.
    const onClose = () => done(() => reject(unreadable(new Error('stream closed before its end'))))
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}

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
