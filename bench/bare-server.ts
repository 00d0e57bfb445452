// Baselines for the benchmark: a bare node:http server that reads each POST body fully and answers
// 200 with the same bytes as the endpoint. Usage: bare-server.ts <response-body-file> [content-type]
// [parse]. With "parse" it is the floor: it also does the two things any endpoint that reads JSON
// must do, JSON.parse of the body and JSON.stringify of the answer, and nothing else (no token, no
// schema, no handler), so that the bench can show what share of bare speed is left for the rest.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const [bodyPath, contentType = 'application/json', mode] = process.argv.slice(2)
if (bodyPath === undefined || (mode !== undefined && mode !== 'parse')) {
  process.stderr.write('usage: bare-server.ts <response-body-file> [content-type] [parse]\n')
  process.exit(2)
}
const body = readFileSync(bodyPath)
const answer: unknown = JSON.parse(body.toString('utf8'))
const headers = { 'content-type': contentType, 'content-length': body.length }
const parse = mode === 'parse'

const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST', 'content-length': 0 }).end()
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const received = Buffer.concat(chunks)
    if (!parse) {
      res.writeHead(200, headers).end(body)
      return
    }
    let text: string
    try {
      JSON.parse(received.toString('utf8'))
      text = JSON.stringify(answer)
    } catch {
      res.writeHead(400, { 'content-length': 0 }).end()
      return
    }
    res.writeHead(200, headers).end(text)
  })
})
server.keepAliveTimeout = 5_000 // as the endpoint's local host
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo
  process.stderr.write(
    `${parse ? 'floor' : 'bare'} baseline listening on http://127.0.0.1:${port}\n`,
  )
})
