// `npm start`: serve() of the API with no code handlers. Reads the environment, prints the banner,
// serves until SIGINT/SIGTERM. On a configuration problem it prints every problem (names, never
// values) and exits 1; so it does when the port is taken, saying which and how to pick another.
import { ConfigError } from '../config.js'
import { createJsonLogger, type LogLevel } from '../log.js'
import { createAuthenticationEvents } from '../api/authentication-events.js'

const env = process.env
const level =
  (['debug', 'info', 'warn', 'error'] as const).find((l) => l === env.LOG_LEVEL) ?? 'info'
const log = createJsonLogger((line) => process.stdout.write(line), level satisfies LogLevel)

try {
  // The declarative handlers of EXTENSION_CONFIG, served through the package's own API.
  const server = await createAuthenticationEvents({ env, log }).serve()
  // Since the process started (node's clock): with `npm start` that includes the esbuild step,
  // which runs in this process (tools/build/start-local.mjs); npm's own start is not counted.
  const startMs = Math.round(performance.now())
  const banner = [
    `Entra authentication extension endpoint listening on ${server.url} (started in ${startMs} ms)`,
  ]
  if (server.devIssuer !== undefined) {
    banner.unshift(
      ...box([
        'DEV MODE: ENTRA_TENANT_ID is not set. Tokens come from an in-process',
        "development issuer; this endpoint does NOT accept Entra's tokens.",
      ]),
    )
    banner.push(
      `  dev issuer: ${server.devIssuer.issuer}`,
      `  get a token: POST ${server.url}/api/dev/token`,
    )
  } else {
    banner.push(
      `  tenant: ${server.config.tenantId}`,
      `  issuers: ${server.config.issuers.join(', ')}`,
    )
  }
  banner.push(
    server.config.extensionSource.kind === 'example'
      ? `  EXTENSION_CONFIG is not set: using the example configuration ${server.config.extensionSource.path}`
      : `  configuration: ${server.config.extensionSource.path}`,
    `  request budget: ${server.config.requestBudgetMs} ms`,
    // Off dev mode, replay has no development issuer to ask: it needs a token of the tenant's.
    `  try: npm run replay -- test/fixtures/events/token-issuance-start.json --url ${server.url}${server.devIssuer === undefined ? ' --token <an access token for ENTRA_AUDIENCE>' : ''}`,
  )
  process.stderr.write(`${banner.join('\n')}\n`)

  const stop = () => {
    void server.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (err) {
  if (isAddressInUse(err)) {
    process.stderr.write(
      `The endpoint cannot start: ${err.address ?? 'the host'} port ${err.port ?? '?'} is already in use (another npm start?). Stop that process, or choose another port: PORT=7072 npm start\n`,
    )
    process.exit(1)
  }
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write('The endpoint cannot start; fix its configuration:\n')
  for (const problem of err.problems) process.stderr.write(`  - ${problem}\n`)
  process.exit(1)
}

/** Frames lines in asterisks, padded to the longest. */
function box(lines: readonly string[]): string[] {
  const width = Math.max(...lines.map((line) => line.length))
  const edge = '*'.repeat(width + 6)
  return [edge, ...lines.map((line) => `*  ${line.padEnd(width)}  *`), edge]
}

function isAddressInUse(
  err: unknown,
): err is NodeJS.ErrnoException & { address?: string; port?: number } {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
}
