// `npm run stand-ins`: the loopback stand-ins the configurations in config/examples/ need, for
// replaying them locally with no Azure: the token endpoint and Microsoft Graph (HTTPS, with a CA
// made here and written to a file for NODE_EXTRA_CA_CERTS), seeded with the demo directory
// (demo-data.ts), and the employee API on http://127.0.0.1:7081. Prints the command that starts
// the endpoint against them, then serves until Ctrl-C and removes its temporary files.
// The HTTPS stand-ins take any free port; the employee API takes 7081, the port
// config/examples/http-employee.json names, or any free one when 7081 is taken.
//   EMPLOYEE_API_PORT   another port for the employee API (0: any free one). On any port but
//                       7081 that configuration must change: a copy that points there is written.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DEMO_HR_API_KEY,
  DEMO_UPN,
  EMPLOYEE_API_PORT,
  seedDemoDirectory,
  startEmployeeApi,
  type EmployeeApi,
  type EmployeeApiRequest,
} from './demo-data.js'
import { startGraph } from './graph-server.js'
import { startSmtpServer } from './smtp-server.js'
import { TEST_TLS_FILE, testTls } from './test-ca.js'
import { startTokenEndpoint } from './token-endpoint.js'

const ROOT = new URL('../../', import.meta.url).pathname
const EXAMPLES = 'config/examples'
const HTTP_EXAMPLE = `${EXAMPLES}/http-employee.json`
const FIXTURE = 'test/fixtures/events/token-issuance-start.json'

const out = (line = '') => process.stdout.write(`${line}\n`)

const portChosen = (process.env.EMPLOYEE_API_PORT ?? '').trim() !== ''
const port = employeeApiPort(process.env.EMPLOYEE_API_PORT)

// A CA of our own, always: under vitest TEST_TLS_FILE names the tests' CA, which no endpoint
// started by hand trusts.
delete process.env[TEST_TLS_FILE]
const tls = await testTls()
const dir = mkdtempSync(join(tmpdir(), 'stand-ins-'))
const cleanUp = () => rmSync(dir, { recursive: true, force: true })
process.on('exit', cleanUp)

// Node takes one NODE_EXTRA_CA_CERTS file: keep whatever bundle is configured (a proxy's CA).
const existing = process.env.NODE_EXTRA_CA_CERTS
const kept = existing !== undefined && existsSync(existing) ? readFileSync(existing, 'utf8') : ''
const caFile = join(dir, 'ca.pem')
writeFileSync(caFile, `${kept.trimEnd()}\n${tls.caCert}`.trimStart(), { mode: 0o600 })

const tokens = await startTokenEndpoint()
const graph = await startGraph({ tokens })
seedDemoDirectory(graph)
const onRequest = (r: EmployeeApiRequest) =>
  out(`employee API: ${r.method} ${r.path} -> ${r.status}`)
let api: EmployeeApi
let busy = false // 7081 was taken, so another port is used
try {
  api = await startEmployeeApi({ port, onRequest })
} catch (err) {
  const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
  if (inUse && !portChosen) {
    busy = true
    api = await startEmployeeApi({ port: 0, onRequest })
  } else {
    await Promise.allSettled([graph.close(), tokens.close()])
    fail(
      inUse
        ? `port ${port} is in use: stop what listens there, or set EMPLOYEE_API_PORT to another port (0 for any)`
        : `the employee API cannot listen on port ${port}: ${String(err)}`,
    )
  }
}

// http-employee.json names port 7081: on another one, a copy with the URL rewritten.
let httpExample = HTTP_EXAMPLE
if (api.port !== EMPLOYEE_API_PORT) {
  const text = readFileSync(join(ROOT, HTTP_EXAMPLE), 'utf8')
  httpExample = join(dir, 'http-employee.json')
  writeFileSync(
    httpExample,
    text.replaceAll(`http://127.0.0.1:${EMPLOYEE_API_PORT}/`, `${api.origin}/`),
  )
}

// An SMTP server for OnOtpSend (plain SMTP: the endpoint allows it towards loopback only).
const smtp = await startSmtpServer({ tls: 'none' })
let printed = 0
const mailWatch = setInterval(() => {
  for (const message of smtp.messages.slice(printed))
    out(`SMTP stand-in: received "${message.subject ?? ''}" for ${message.to.join(', ')}`)
  printed = smtp.messages.length
}, 200)

const env: [string, string][] = [
  ['NODE_EXTRA_CA_CERTS', caFile],
  ['GRAPH_BASE_URL', graph.origin],
  ['AZURE_TENANT_ID', tokens.tenantId],
  ['AZURE_CLIENT_ID', tokens.clientId],
  ['AZURE_CLIENT_SECRET', tokens.clientSecret],
  ['AZURE_AUTHORITY_HOST', tokens.authorityHost],
  ['HR_API_KEY', DEMO_HR_API_KEY],
  ['MAIL_PROVIDER', 'smtp'],
  ['MAIL_FROM', 'no-reply@contoso.example'],
  ['SMTP_URL', smtp.url],
]
const assignments = env.map(([name, value]) => `${name}=${shellQuote(value)}`).join(' ')

out('Stand-ins for the configurations in config/examples/ are running (Ctrl-C stops them):')
out(`  token endpoint  ${tokens.authorityHost}  (tenant ${tokens.tenantId})`)
out(`  Microsoft Graph ${graph.origin}  (the fixture's user ${DEMO_UPN}, groups, manager)`)
out(`  employee API    ${api.origin}  (x-api-key: ${DEMO_HR_API_KEY})`)
out(`  SMTP server     ${smtp.url}  (OnOtpSend e-mails are printed here)`)
out(`  CA certificate  ${caFile}`)
if (api.port !== EMPLOYEE_API_PORT) {
  out()
  if (busy) out(`NOTE: port ${EMPLOYEE_API_PORT} is in use, so the employee API took another one.`)
  out(`NOTE: the employee API is not on port ${EMPLOYEE_API_PORT}, which ${HTTP_EXAMPLE} names:`)
  out(`  that configuration must change; a copy pointing at ${api.origin} is ${httpExample}`)
}
out()
out('Start the endpoint in a second terminal (from the repository root) with:')
out()
out(`${assignments} EXTENSION_CONFIG=${shellQuote(`${EXAMPLES}/graph-groups.json`)} npm start`)
out()
out('or with EXTENSION_CONFIG set to one of the other examples:')
out(`  ${shellQuote(httpExample)}`)
out(`  ${EXAMPLES}/static-and-graph.json`)
out()
out('Then, in a third terminal:')
out()
out(`npm run replay -- ${FIXTURE}`)
out(
  `npm run replay -- test/fixtures/events/otp-send.json     # an e-mail arrives at the SMTP server`,
)
out()

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  clearInterval(mailWatch)
  void Promise.allSettled([api.close(), graph.close(), tokens.close(), smtp.close()]).then(() => {
    cleanUp()
    process.exit(0)
  })
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
process.once('SIGHUP', stop)

function fail(message: string): never {
  process.stderr.write(`stand-ins: ${message}\n`)
  process.exit(1)
}

function employeeApiPort(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return EMPLOYEE_API_PORT
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535)
    return fail('EMPLOYEE_API_PORT must be a port number (0 to 65535)')
  return parsed
}

/** The value as one word for a POSIX shell: quoted unless it holds only safe characters. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}
