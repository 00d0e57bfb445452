// `npm run replay -- <event.json>... [--url URL] [--token TOKEN]`: sends recorded events to a running
// endpoint, prints status, latency and the answer, and checks the answer against the contract.
// Without --token it asks the endpoint's dev issuer (POST /api/dev/token), which only dev mode has.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { describeIssue } from '../../src/describe-issue.js'
import { EVENT_ROUTES, routeForEventType, type EventRoute } from '../../src/events/routes.js'

const USAGE =
  'usage: npm run replay -- <event.json>... [--url http://127.0.0.1:7071] [--token <bearer token>]\n' +
  '       OnPasswordSubmit: [--username <name>] [--password <password>] (dev mode encrypts them)'
const TIMEOUT_MS = 10_000

function readArgs() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string', default: 'http://127.0.0.1:7071' },
        token: { type: 'string' },
        username: { type: 'string', default: 'avery@example.org' },
        password: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (err) {
    // An unknown option or a missing value: say which, and how to call it, without a stack.
    process.stderr.write(`${err instanceof Error ? err.message : 'bad arguments'}\n${USAGE}\n`)
    process.exit(2)
  }
}
const { values, positionals } = readArgs()
if (values.help === true || positionals.length === 0) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(values.help === true ? 0 : 2)
}
const base = values.url.replace(/\/+$/, '')

async function obtainToken(): Promise<string> {
  if (values.token !== undefined) return values.token
  let res: Response
  try {
    res = await fetch(`${base}/api/dev/token`, {
      method: 'POST',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
  } catch {
    throw new Error(`cannot reach ${base}: is the endpoint running (npm start)?`)
  }
  if (res.status !== 200)
    throw new Error(`${base} is not in dev mode (no /api/dev/token): pass --token <bearer token>`)
  const body = (await res.json()) as { access_token?: unknown }
  if (typeof body.access_token !== 'string')
    throw new Error('the dev issuer answered without a token')
  return body.access_token
}

interface PasswordEvent {
  data?: { encryptedPasswordContext?: unknown }
}

/**
 * OnPasswordSubmit's context must be encrypted to the endpoint's key: with --password (or when the
 * event holds the fixture's placeholder), the dev route encrypts --username and --password.
 */
async function fillPasswordContext(event: PasswordEvent): Promise<void> {
  const context = event.data?.encryptedPasswordContext
  const placeholder = typeof context === 'string' && context.startsWith('PLACEHOLDER.')
  if (values.password === undefined && !placeholder) return
  if (values.password === undefined || event.data === undefined)
    throw new Error('this OnPasswordSubmit event needs --password (and --username)')
  const res = await fetch(`${base}/api/dev/passwordContext`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: values.username, password: values.password }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  })
  const body = (await res.json()) as { encryptedPasswordContext?: unknown }
  if (res.status !== 200 || typeof body.encryptedPasswordContext !== 'string')
    throw new Error(`${base} cannot encrypt a password context (dev mode only)`)
  event.data.encryptedPasswordContext = body.encryptedPasswordContext
}

interface ReadEvent {
  readonly file: string
  readonly event: unknown
  readonly route: EventRoute
}

/** The file's event and its route; undefined (said on stdout) when it cannot be replayed. */
function readEvent(file: string): ReadEvent | undefined {
  let source: string
  try {
    source = readFileSync(file, 'utf8')
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    process.stdout.write(`${file}: ${missing ? 'file not found' : 'cannot be read'}\n`)
    return undefined
  }
  let event: unknown
  try {
    event = JSON.parse(source)
  } catch {
    process.stdout.write(`${file}: not valid JSON\n`)
    return undefined
  }
  const type = (event as { type?: unknown } | null)?.type
  const route = typeof type === 'string' ? routeForEventType(type) : undefined
  if (route === undefined) {
    process.stdout.write(`${file}: "type" is not an event this endpoint serves\n`)
    return undefined
  }
  return { file, event, route }
}

async function replay({ file, event, route }: ReadEvent, token: string): Promise<boolean> {
  if (route === 'onPasswordSubmit') await fillPasswordContext(event as PasswordEvent)
  process.stdout.write(`${file} -> POST ${base}/api/${route}\n`)
  const started = performance.now()
  const res = await fetch(`${base}/api/${route}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(event),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  })
  const text = await res.text()
  const ms = (performance.now() - started).toFixed(1)
  process.stdout.write(
    `  HTTP ${res.status} in ${ms} ms (content-type: ${res.headers.get('content-type') ?? 'none'})\n`,
  )
  let answer: unknown
  try {
    answer = JSON.parse(text)
    process.stdout.write(`${JSON.stringify(answer, null, 2).replace(/^/gm, '  ')}\n`)
  } catch {
    process.stdout.write(`  body is not JSON: Entra would report 1003003\n`)
    return false
  }
  if (res.status !== 200) {
    process.stdout.write(
      `  not a 200: Entra would report 1003002 (see docs/operations.md, "Troubleshooting")\n`,
    )
    return false
  }
  const checked = EVENT_ROUTES[route].response.safeParse(answer)
  if (!checked.success) {
    for (const issue of checked.error.issues)
      process.stdout.write(`  ✗ ${describeIssue(issue, { quotePath: true })}\n`)
    return false
  }
  process.stdout.write('  ✓ the answer matches the contract\n')
  return true
}

try {
  // Every file is read before anything is sent: a missing file is said as such, endpoint up or not.
  const events = positionals.map(readEvent)
  const readable = events.filter((e) => e !== undefined)
  let ok = readable.length === events.length
  if (readable.length > 0) {
    const token = await obtainToken()
    for (const event of readable) ok = (await replay(event, token)) && ok
  }
  process.exit(ok ? 0 : 1)
} catch (err) {
  process.stderr.write(`replay: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
}
