// A stand-in for the customer's own HTTP API (attributeCollectionSubmit.remoteValidation) on
// loopback: records every request and answers as the test tells it to, including badly (an error
// status, not JSON, too much, a redirect, a reset) or not at all (hang, slow).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { heldAnswers } from './held-answers.js'

/** Where remoteValidation.url points: a path and a query, both kept as configured. */
export const VALIDATE_PATH = '/signup/validate?tenant=contoso'
/** Answers 200 {"action":"continue"} (and is recorded): where a followed redirect would end. */
export const REDIRECT_TARGET = '/signup/elsewhere'

export type CustomerAnswer =
  /** JSON with a status (200 unless given). */
  | { readonly kind: 'json'; readonly body: unknown; readonly status?: number }
  /** A body that is not JSON, declared as `contentType` (text/html unless given). */
  | { readonly kind: 'text'; readonly body: string; readonly contentType?: string }
  /** A valid `{"action":"continue"}` padded to `bytes`; chunked leaves Content-Length out. */
  | { readonly kind: 'oversized'; readonly bytes: number; readonly chunked: boolean }
  /** A redirect to REDIRECT_TARGET on this server. */
  | { readonly kind: 'redirect'; readonly status: 301 | 302 | 307 | 308 }
  /** Drops the connection without answering. */
  | { readonly kind: 'reset' }
  /** Never answers; close() ends the connection. */
  | { readonly kind: 'hang' }
  /** Answers `then` after `delayMs`. */
  | { readonly kind: 'slow'; readonly delayMs: number; readonly then: CustomerAnswer }

export interface RecordedRequest {
  readonly method: string
  /** Path and query, as requested. */
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly text: string
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown
}

export interface CustomerApi {
  /** The URL to configure as remoteValidation.url. */
  readonly url: string
  readonly origin: string
  readonly requests: RecordedRequest[]
  /** How every following request is answered (until the next call or reset). */
  answer(answer: CustomerAnswer): void
  /** Forgets the requests and answers {"action":"continue"} again. */
  reset(): void
  close(): Promise<void>
}

const CONTINUE: CustomerAnswer = { kind: 'json', body: { action: 'continue' } }

export async function startCustomerApi(): Promise<CustomerApi> {
  let current = CONTINUE
  const requests: RecordedRequest[] = []
  const held = heldAnswers() // slow or hanging answers: ended by close()

  const respond = (res: ServerResponse, answer: CustomerAnswer): void => {
    switch (answer.kind) {
      case 'json': {
        const body = JSON.stringify(answer.body)
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' }).end(body)
        return
      }
      case 'text':
        res.writeHead(200, { 'content-type': answer.contentType ?? 'text/html' }).end(answer.body)
        return
      case 'oversized': {
        const head = '{"action":"continue","padding":"'
        const body = `${head}${'x'.repeat(Math.max(0, answer.bytes - head.length - 2))}"}`
        if (!answer.chunked) {
          const length = String(Buffer.byteLength(body))
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': length })
          res.end(body)
          return
        }
        res.writeHead(200, { 'content-type': 'application/json' }) // chunked: no length
        for (let at = 0; at < body.length; at += 8192) res.write(body.slice(at, at + 8192))
        res.end()
        return
      }
      case 'redirect':
        res.writeHead(answer.status, { location: REDIRECT_TARGET }).end()
        return
      case 'reset':
        res.socket?.destroy()
        return
      case 'hang':
        held.hang(res)
        return
      case 'slow':
        held.later(res, answer.delayMs, () => respond(res, answer.then))
        return
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = req.url ?? ''
      const text = Buffer.concat(chunks).toString('utf8')
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      requests.push({ method: req.method ?? '', path, headers: req.headers, text, json })
      respond(res, path === REDIRECT_TARGET ? CONTINUE : current)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url: `${origin}${VALIDATE_PATH}`,
    origin,
    requests,
    answer(answer) {
      current = answer
    },
    reset() {
      current = CONTINUE
      requests.length = 0
    },
    close() {
      held.close()
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

/** A loopback URL nothing listens on: connections to it are refused. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}${VALIDATE_PATH}`
}
