// Baseline for the benchmark: a bare node:http server that reads each POST body fully and answers
// 200 with fixed bytes. Usage: bare-server.ts <response-body-file> [content-type]
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const [bodyPath, contentType = 'application/json'] = process.argv.slice(2)
if (bodyPath === undefined) {
  process.stderr.write('usage: bare-server.ts <response-body-file> [content-type]\n')
  process.exit(2)
}
const body = readFileSync(bodyPath)
const headers = { 'content-type': contentType, 'content-length': body.length }

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST', 'content-length': 0 }).end()
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    Buffer.concat(chunks)
    res.writeHead(200, headers).end(body)
  })
})
server.keepAliveTimeout = 5_000 // as the endpoint's local host
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stderr.write(`bare baseline listening on http://127.0.0.1:${port}\n`)
})
