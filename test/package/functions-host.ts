// A small stand-in for the Azure Functions Node.js worker, enough to load a Functions package the
// way the worker does and to serve its HTTP functions on loopback. @azure/functions hands each
// registration to the worker's core API (`@azure/functions-core`, which only the worker provides,
// through require()); this writes an implementation of that API into a folder meant for NODE_PATH,
// and a runner that imports the package's `main` (each file its glob matches) and then either
// prints what was registered (`--list`) or serves the HTTP triggers as the host does in stream mode:
// the request goes to the library's HTTP proxy with `x-ms-invocation-id`, and the invocation runs
// through the library's own InvocationModel. Used by test/package and by `npm run bench` (cold
// start of the tsc output vs the bundle). Plain JavaScript in the child: no tsx in what is timed.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const CORE = String.raw`'use strict'
const http = require('node:http')
const { randomUUID } = require('node:crypto')
const functions = new Map()
let programmingModel
module.exports = {
  setProgrammingModel(model) { programmingModel = model },
  getProgrammingModel() { return programmingModel },
  registerFunction(metadata, callback) {
    functions.set(metadata.name, { metadata, callback })
    return { dispose() { functions.delete(metadata.name) } }
  },
  registerHook() { return { dispose() {} } },
  log() {},
  registered() { return [...functions.values()].map((f) => f.metadata) },
  async serve(port) {
    const capabilities = await programmingModel.getCapabilities({})
    const proxy = capabilities.HttpUri
    const routes = new Map()
    for (const fn of functions.values()) {
      const entry = Object.entries(fn.metadata.bindings).find(([, b]) => b.type === 'httpTrigger')
      if (entry) routes.set(entry[1].route.toLowerCase(), { fn, name: entry[0], methods: entry[1].methods })
    }
    const server = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://localhost')
      const route = /^\/api\/(.+)$/.exec(url.pathname)
      const target = route && routes.get(route[1].toLowerCase())
      if (!target || !target.methods.includes(req.method)) {
        res.writeHead(404).end()
        return
      }
      const invocationId = randomUUID()
      const headers = {}
      for (const [key, value] of Object.entries(req.headers)) headers[key] = String(value)
      const coreCtx = {
        invocationId,
        metadata: target.fn.metadata,
        request: {
          inputData: [{ name: target.name, data: { http: {} } }],
          triggerMetadata: { Headers: { json: JSON.stringify(headers) } },
        },
        log(level, category, message) {
          if (category === 'user') process.stdout.write(message + '\n')
          else if (level === 'error' || level === 'warning') process.stderr.write(message + '\n')
        },
      }
      const forwarded = http.request(new URL(url.pathname + url.search, proxy), {
        method: req.method,
        headers: {
          ...req.headers,
          'x-ms-invocation-id': invocationId,
          'x-forwarded-host': req.headers.host ?? 'localhost',
          'x-forwarded-proto': 'http',
        },
      }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      forwarded.on('error', () => res.destroy())
      req.pipe(forwarded)
      const model = programmingModel.getInvocationModel(coreCtx)
      void (async () => {
        const { context, inputs } = await model.getArguments()
        const result = await model.invokeFunction(context, inputs, target.fn.callback)
        await model.getResponse(context, result)
      })().catch((err) => {
        process.stderr.write('invocation failed: ' + (err && err.stack) + '\n')
        res.destroy()
      })
    })
    await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
    process.stderr.write('listening on http://127.0.0.1:' + server.address().port + '\n')
    return server
  },
}
`

const RUNNER = String.raw`// argv: <package folder> [--list]
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
const dir = resolve(process.argv[2])
const core = createRequire(join(dir, 'package.json'))('@azure/functions-core')
const { main } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
// The worker's reading of "main": a path, or a glob with '*' in its last segment.
const slash = main.lastIndexOf('/')
const folder = slash < 0 ? '' : main.slice(0, slash)
const pattern = new RegExp('^' + main.slice(slash + 1).replace(/[.+?^$()|[\]{}\\]/g, '\\$&').replace(/\*/g, '.*') + '$')
const files = main.includes('*')
  ? readdirSync(join(dir, folder)).filter((name) => pattern.test(name)).sort().map((name) => join(dir, folder, name))
  : [join(dir, main)]
for (const file of files) await import(pathToFileURL(file).href)
if (process.argv[3] === '--list') {
  process.stdout.write(JSON.stringify(core.registered()))
} else {
  await core.serve(Number(process.env.PORT ?? '0'))
}
`

export interface FunctionsHost {
  /** The folder to put in NODE_PATH. */
  readonly nodePath: string
  /** The runner: `node <runner> <package folder> [--list]`. */
  readonly runner: string
}

/** Writes the stand-in worker core and its runner under `folder`. */
export function writeFunctionsHost(folder: string): FunctionsHost {
  const core = join(folder, 'node_modules', '@azure', 'functions-core')
  mkdirSync(core, { recursive: true })
  writeFileSync(
    join(core, 'package.json'),
    JSON.stringify({ name: '@azure/functions-core', main: 'index.js' }),
  )
  writeFileSync(join(core, 'index.js'), CORE)
  const runner = join(folder, 'run-functions.mjs')
  writeFileSync(runner, RUNNER)
  return { nodePath: join(folder, 'node_modules'), runner }
}

export interface RegisteredFunction {
  readonly name: string
  readonly bindings: Record<
    string,
    { type: string; direction: string; route?: string; methods?: string[]; authLevel?: string }
  >
}
