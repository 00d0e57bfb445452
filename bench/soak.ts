// `npm run soak`: the endpoint under moderate, steady load for a while (60 s by default), every
// route, every request a new user, correlation ID and one-time code, so that every per-user
// structure (the claims source cache, the OTP duplicate store, the per-recipient rate limit)
// sees only new keys and would grow without end if it were not bounded. Passes when no request
// failed and the resident memory stopped growing: RSS at the end is within the stated bound of
// RSS at the half-way point.
//
//   npm run soak [-- --seconds 60] [--rate 400] [--json] [--from-source]
//
// --from-source runs src/ through tsx instead of dist/ (the test suite does, for a short run).
// Exit 0 pass, 1 fail, 2 bad arguments. Everything it talks to is on 127.0.0.1.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { startSmtpServer, type SmtpStandIn } from '../test/support/smtp-server.js'
import { devToken, rssMiB, startChild, type Child } from './child.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const STARTUP_TIMEOUT_MS = 60_000
const CONNECTIONS = 4
/** RSS may grow by this much between the half-way point and the end (allocator slack, JIT). */
export const RSS_GROWTH_BOUND_MIB = 24

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '400' },
    json: { type: 'boolean', default: false },
    'from-source': { type: 'boolean', default: false },
  },
})
const seconds = Number(values.seconds)
const rate = Number(values.rate)
if (!Number.isInteger(seconds) || seconds < 4 || seconds > 3600) usage('--seconds: 4 to 3600')
if (!Number.isInteger(rate) || rate < 10 || rate > 5000) usage('--rate: 10 to 5000 requests/s')

function usage(message: string): never {
  process.stderr.write(`soak: ${message}\n`)
  process.exit(2)
}

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(ROOT, 'test/fixtures/events', `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >

const children: Child[] = []
let smtp: SmtpStandIn | undefined
const tmp = mkdtempSync(join(tmpdir(), 'entra-soak-'))
const cleanUp = async () => {
  await Promise.all(children.map((child) => child.stop()))
  await smtp?.close()
  rmSync(tmp, { recursive: true, force: true })
}
// Bounded no matter what.
const watchdog = setTimeout(
  () => {
    process.stderr.write('soak: still running long after its duration; giving up\n')
    void cleanUp().finally(() => process.exit(1))
  },
  (seconds + (3 * STARTUP_TIMEOUT_MS) / 1000 + 30) * 1000,
)
watchdog.unref()

try {
  process.exitCode = await main()
} catch (err) {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
} finally {
  await cleanUp()
}

async function main(): Promise<number> {
  const entry = values['from-source']
    ? ['--import', 'tsx', 'src/http/serve-local.ts']
    : ['dist/src/http/serve-local.js']
  const api = await startChild({
    name: 'source-api',
    args: ['--import', 'tsx', 'bench/source-api.ts', '2'],
    cwd: ROOT,
    env: process.env,
    timeoutMs: STARTUP_TIMEOUT_MS,
  })
  children.push(api)
  smtp = await startSmtpServer({ tls: 'none' }) // loopback: the endpoint allows plain SMTP there
  const configFile = join(tmp, 'soak.json')
  writeFileSync(configFile, JSON.stringify(soakConfig(api.url)))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
    EXTENSION_CONFIG: configFile,
    MAIL_PROVIDER: 'smtp',
    MAIL_FROM: 'no-reply@contoso.test',
    SMTP_URL: smtp.smtpUrl(),
  }
  for (const name of ['ENTRA_TENANT_ID', 'ENTRA_AUDIENCE', 'ENTRA_ISSUER']) delete env[name]
  const endpoint = await startChild({
    name: 'endpoint',
    args: entry,
    cwd: ROOT,
    env,
    timeoutMs: STARTUP_TIMEOUT_MS,
  })
  children.push(endpoint)
  const token = await devToken(endpoint.url)
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }

  const tis = fixture('token-issuance-start')
  const start = fixture('attribute-collection-start')
  const submit = fixture('attribute-collection-submit')
  const otp = fixture('otp-send')
  // A new user, correlation ID, recipient and code on every request (see the top of the file).
  const fresh = (event: Record<string, unknown>, kind: 'user' | 'otp') => {
    const copy = structuredClone(event) as {
      data: {
        authenticationContext: { correlationId: string; user?: { id: string } }
        otpContext?: { identifier: string; onetimecode?: string; oneTimeCode?: string }
      }
    }
    const id = randomUUID()
    copy.data.authenticationContext.correlationId = id
    if (kind === 'user' && copy.data.authenticationContext.user !== undefined)
      copy.data.authenticationContext.user.id = id
    if (kind === 'otp' && copy.data.otpContext !== undefined) {
      copy.data.otpContext.identifier = `soak-${id.slice(0, 8)}@contoso.test`
      copy.data.otpContext.oneTimeCode = String(100000 + Math.floor(Math.random() * 899999))
    }
    return JSON.stringify(copy)
  }
  const request = (path: string, body: () => string): autocannon.Request => ({
    method: 'POST',
    path,
    headers,
    setupRequest: (req) => ({ ...req, body: body() }),
  })
  const requests = [
    request('/api/onTokenIssuanceStart', () => fresh(tis, 'user')),
    request('/api/onAttributeCollectionStart', () => fresh(start, 'user')),
    request('/api/onAttributeCollectionSubmit', () => fresh(submit, 'user')),
    request('/api/onOtpSend', () => fresh(otp, 'otp')),
  ]

  const samples: { at: number; rss: number | undefined }[] = []
  const sampler = setInterval(() => {
    samples.push({ at: samples.length + 1, rss: rssMiB(endpoint.pid) })
  }, 1000)
  log(`${seconds} s at ${rate} requests/s over ${CONNECTIONS} connections, all four routes ...`)
  const statuses: Record<string, number> = {}
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: endpoint.url,
        connections: CONNECTIONS,
        overallRate: rate,
        duration: seconds,
        timeout: 10,
        requests,
      },
      (err: unknown, res) =>
        err === null || err === undefined
          ? resolve(res)
          : reject(err instanceof Error ? err : new Error('autocannon failed')),
    )
    instance.on('response', (_client, status) => {
      statuses[status] = (statuses[status] ?? 0) + 1
    })
  })
  clearInterval(sampler)
  const rssEnd = rssMiB(endpoint.pid)
  const rssStart = samples[0]?.rss
  const rssHalf = samples[Math.floor(samples.length / 2)]?.rss
  const growth = rssEnd !== undefined && rssHalf !== undefined ? rssEnd - rssHalf : undefined
  const mails = smtp.messages.length
  const failures = [
    ...(result.non2xx > 0 ? [`${result.non2xx} non-2xx answers`] : []),
    ...(result.errors > 0 ? [`${result.errors} errors (${result.timeouts} timeouts)`] : []),
    ...(result.requests.total === 0 ? ['no requests were made'] : []),
    ...(growth !== undefined && growth > RSS_GROWTH_BOUND_MIB
      ? [`RSS grew by ${growth.toFixed(1)} MiB in the second half (bound ${RSS_GROWTH_BOUND_MIB})`]
      : []),
    ...(endpoint.alive() ? [] : ['the endpoint died']),
    ...(mails === 0 ? ['no e-mail reached the SMTP server'] : []),
  ]
  const summary = {
    seconds,
    rate,
    requests: result.requests.total,
    statuses,
    errors: result.errors,
    non2xx: result.non2xx,
    p99Ms: result.latency.p99,
    mails,
    rssMiB: { start: rssStart, half: rssHalf, end: rssEnd, growthSecondHalf: growth },
    rssGrowthBoundMiB: RSS_GROWTH_BOUND_MIB,
    endpointWarnings: endpoint.stdout.lines,
    pass: failures.length === 0,
    failures,
  }
  const mib = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(1)} MiB`)
  process.stdout.write(
    values.json
      ? `${JSON.stringify(summary)}\n`
      : [
          `soak: ${summary.requests} requests in ${seconds} s (${rate}/s target), statuses ${JSON.stringify(statuses)}, ${result.errors} errors, p99 ${result.latency.p99} ms, ${mails} e-mails`,
          `RSS: ${mib(rssStart)} after 1 s, ${mib(rssHalf)} half-way, ${mib(rssEnd)} at the end (second-half growth ${mib(growth)}, bound ${RSS_GROWTH_BOUND_MIB} MiB)`,
          `endpoint log lines (warn and above): ${endpoint.stdout.lines}`,
          ...endpoint.stdout.tail.slice(-5).map((line) => `  ${line}`),
          failures.length === 0 ? 'PASS' : `FAIL: ${failures.join('; ')}`,
          '',
        ].join('\n'),
  )
  return failures.length === 0 ? 0 : 1
}

/** Claims from a cached HTTP source; the sign-up events keep their defaults (200 for the fixtures). */
function soakConfig(apiUrl: string) {
  return {
    tokenIssuanceStart: {
      sources: {
        hr: {
          type: 'http',
          url: `${apiUrl}/employees/{user.id}`,
          timeoutMs: 500,
          cache: { ttlSeconds: 3600, maxEntries: 200 }, // full within seconds: then it must stay full
        },
      },
      claims: {
        correlationId: { from: 'correlationId' },
        costCenter: { source: 'hr', path: 'employee.costCenter' },
      },
    },
  }
}

function log(message: string): void {
  process.stderr.write(`soak: ${message}\n`)
}
