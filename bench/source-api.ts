// A claims source for the benchmark: an HTTP JSON API that answers every GET after a fixed delay,
// or never ("hang": it reads the request and keeps the connection open without answering).
// Usage: source-api.ts <delay-ms | hang>
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const hang = process.argv[2] === 'hang'
const delayMs = hang ? 0 : Number(process.argv[2] ?? '0')
if (!Number.isFinite(delayMs) || delayMs < 0) {
  process.stderr.write('usage: source-api.ts <delay-ms | hang>\n')
  process.exit(2)
}
const body = JSON.stringify({ employee: { id: 4711, costCenter: 'CC-100' }, roles: ['a', 'b'] })
const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }

const server = createServer((req, res) => {
  req.resume()
  const answer = () => res.writeHead(200, headers).end(body)
  if (hang) return
  if (delayMs === 0) answer()
  else setTimeout(answer, delayMs)
})
server.keepAliveTimeout = 5_000
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stderr.write(
    `source API (${hang ? 'hangs' : `${delayMs} ms`}) listening on http://127.0.0.1:${port}\n`,
  )
})
