// `npm run doctor`: what is wrong with the registration of a deployed endpoint, from Microsoft
// Graph (contract §7) and the endpoint's own configuration. Exit 0 no errors, 1 errors found or
// Graph unreadable, 2 bad arguments or settings.
import { parseArgs } from 'node:util'
import { ConfigError, loadEndpointSettings } from '../../src/config.js'
import { readLimited } from '../../src/outbound/fetch-json.js'
import type { EventRoute } from '../../src/events/routes.js'
import { localPublicKey } from '../registration/certificate.js'
import { CHECKED_BY_DEFAULT, needsCertificate, REGISTRABLE } from '../registration/desired.js'
import {
  diagnose,
  doctorDesired,
  type EndpointKey,
  type EndpointView,
  type Finding,
} from '../registration/diagnose.js'
import { GUID, printableText } from '../registration/entra-objects.js'
import { finding } from '../registration/findings.js'
import { GraphError } from '../graph/graph-error.js'
import { readTenant, TenantReadError } from '../registration/read-tenant.js'
import { isHttpsUrl } from '../../src/secure-url.js'
import { readVaultPublicKey } from '../registration/vault-certificate.js'
import {
  operatorCredential,
  operatorGraphClient,
  readOperatorCredential,
  retryLine,
  SignInError,
} from './operator-credential.js'

const USAGE = `usage: npm run doctor -- --url <deployed base URL> [options]

Reads the tenant through Microsoft Graph, plans what npm run register would change and reports
each change as a finding, then checks the registration against this endpoint's configuration
(ENTRA_TENANT_ID, ENTRA_AUDIENCE, ENTRA_ISSUER, REQUEST_BUDGET_MS, EXTENSION_CONFIG, and for
onPasswordSubmit the decryption key).

  --url <url>     the deployed base URL, e.g. https://contoso-ext.azurewebsites.net (required)
  --app <appId>   the client app whose sign-ins should call the endpoint (listener, claims mapping)
  --events <list> the events to check, comma-separated, of ${REGISTRABLE.join(', ')}
                  (default ${CHECKED_BY_DEFAULT.join(', ')})
  --certificate <file>  onPasswordSubmit: the endpoint's key or its certificate (PEM), compared
                  with the app's encryption certificate (default PASSWORD_DECRYPTION_KEY_PATH,
                  either of its two paths during a rotation;
                  without either, the certificate PASSWORD_DECRYPTION_CERT_NAME names in
                  PASSWORD_DECRYPTION_KEY_VAULT_URL, its public part read with this identity;
                  of two names, the first, the current one during a rotation)
  --json          print the findings as JSON
  --health        also GET <url>/api/health and report its status
  --health-url <url>  the health route to call instead (e.g. the Function App's own
                  https://<app>.azurewebsites.net/api/health when --url is an API Management gateway)
  -h, --help      this text

Identity: AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH with AZURE_CLIENT_ID and
AZURE_TENANT_ID; otherwise DefaultAzureCredential (az login), then a device code at a terminal.
Needs CustomAuthenticationExtension.Read.All, EventListener.Read.All, Application.Read.All,
Policy.Read.All and Organization.Read.All (or their ReadWrite forms); for a Key Vault key,
certificates/get on the vault (the Key Vault Certificate User role), not its secrets.
Exit codes: 0 no errors, 1 errors found (or Graph could not be read), 2 bad arguments or settings.`

function fail(code: number, message: string): never {
  process.stderr.write(`doctor: ${message}\n`)
  process.exit(code)
}

function readOptions() {
  const { values } = parseArgs({
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      app: { type: 'string' },
      events: { type: 'string', multiple: true, default: [] },
      certificate: { type: 'string' },
      json: { type: 'boolean', default: false },
      health: { type: 'boolean', default: false },
      'health-url': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return { help: true as const }
  if (values.url === undefined) throw new Error('--url is required')
  if (!isHttpsUrl(values.url)) throw new Error('--url: must be an https URL')
  const url = new URL(values.url)
  if (url.search !== '' || url.hash !== '') throw new Error('--url: no query or fragment')
  if (url.pathname.replace(/\/+$/, '').toLowerCase().endsWith('/api'))
    throw new Error('--url: the base URL, without /api (the routes are added to it)')
  const healthUrl = values['health-url']
  if (healthUrl !== undefined && !isHttpsUrl(healthUrl))
    throw new Error('--health-url: must be an https URL')
  if (values.app !== undefined && !GUID.test(values.app))
    throw new Error('--app: must be an application (client) ID, a GUID')
  const named = values.events.flatMap((list) => list.split(',')).map((e) => e.trim())
  const events = named.map((e) =>
    REGISTRABLE.includes(e as EventRoute) ? e : `on${e.charAt(0).toUpperCase()}${e.slice(1)}`,
  ) as EventRoute[]
  for (const [index, event] of events.entries())
    if (!REGISTRABLE.includes(event))
      throw new Error(`--events: "${named[index] ?? event}" is none of ${REGISTRABLE.join(', ')}`)
  return {
    help: false as const,
    url: url.href.replace(/\/+$/, ''),
    app: values.app,
    events: events.length === 0 ? undefined : [...new Set(events)],
    certificate: values.certificate,
    json: values.json,
    health: values.health || healthUrl !== undefined,
    healthUrl: healthUrl ?? `${url.href.replace(/\/+$/, '')}/api/health`,
  }
}

async function checkHealth(healthUrl: string): Promise<Finding> {
  const fix = 'Check that the endpoint is deployed and running at --url (its logs tell why).'
  try {
    const res = await fetch(healthUrl, {
      signal: AbortSignal.timeout(10_000),
      redirect: 'manual',
    })
    await readLimited(res, 65_536).catch(() => '')
    if (res.status === 200) return finding('health-ok', `GET ${healthUrl}: 200`, '')
    return finding(
      'health-failed',
      `GET ${healthUrl}: HTTP ${res.status}`,
      res.status === 503
        ? "The endpoint runs but is not ready: its log's health_unavailable line says why (signing keys not fetched, no OnPasswordSubmit key, graph_credential_failed or mail_credential_failed: a start-up check of an outbound credential failed; password_hashes_table_failed: the OnPasswordSubmit hash table is missing or unreadable; otp_store_failed: the OTP store cannot be reached)."
        : fix,
    )
  } catch {
    return finding('health-failed', `GET ${healthUrl}: no answer`, fix)
  }
}

function text(findings: readonly Finding[]): string {
  const lines: string[] = []
  for (const severity of ['error', 'warning', 'ok'] as const) {
    const group = findings.filter((f) => f.severity === severity)
    if (group.length === 0) continue
    lines.push(`${severity === 'ok' ? 'ok' : `${severity}s`} (${group.length}):`)
    for (const f of group) {
      lines.push(`  [${f.code}] ${f.message}`)
      if (f.fix !== '') lines.push(`    fix: ${f.fix}`)
    }
    lines.push('')
  }
  const errors = findings.filter((f) => f.severity === 'error').length
  const warnings = findings.filter((f) => f.severity === 'warning').length
  lines.push(`${errors} error(s), ${warnings} warning(s)`)
  return printableText(lines)
}

async function main(): Promise<void> {
  let options: ReturnType<typeof readOptions>
  try {
    options = readOptions()
  } catch (err) {
    fail(2, `${err instanceof Error ? err.message : String(err)}\n${USAGE}`)
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  let config: ReturnType<typeof loadEndpointSettings>
  try {
    config = loadEndpointSettings(process.env)
  } catch (err) {
    if (err instanceof ConfigError) fail(2, `configuration: ${err.problems.join('; ')}`)
    throw err
  }
  const credential = readOperatorCredential(process.env)
  if (typeof credential === 'string') fail(2, credential)
  const graph = operatorGraphClient(credential, config.graphBaseUrl, (retry) =>
    process.stderr.write(retryLine(retry)),
  )

  const events = options.events
  // --certificate, else the endpoint's own setting: one path, or two during a rotation.
  const keyFiles =
    options.certificate !== undefined
      ? [options.certificate]
      : (process.env.PASSWORD_DECRYPTION_KEY_PATH ?? '')
          .split(',')
          .map((path) => path.trim())
          .filter((path) => path !== '')
  const checksKey = (events ?? []).some(needsCertificate)
  const view: EndpointView = {
    baseUrl: options.url,
    appId: options.app,
    tenantId: config.tenantId,
    audiences: config.audiences,
    issuers: config.issuers,
    requestBudgetMs: config.requestBudgetMs,
    claimNames: Object.keys(config.extension.tokenIssuanceStart.claims),
    events,
    decryptionKey: keyFiles.length === 0 || !checksKey ? undefined : readKeyFiles(keyFiles),
  }
  let tenant: Awaited<ReturnType<typeof readTenant>>
  try {
    tenant = await readTenant(graph, doctorDesired(view), { appFromExtensions: true })
  } catch (err) {
    if (err instanceof TenantReadError) fail(1, err.message)
    if (!(err instanceof GraphError)) throw err
    const hint =
      err.status === 403 ? ' (the signed-in identity lacks a read permission: see --help)' : ''
    fail(1, `Microsoft Graph could not be read: ${err.message}${hint}`)
  }
  // No key file: the endpoint's Key Vault certificate (the first name: the current one), read once
  // Graph has been, with the same credential (one sign-in).
  const vault = config.keyVault
  const vaultKey =
    view.decryptionKey === undefined && checksKey && vault !== undefined
      ? await readVaultPublicKey(
          vault.vaultUrl,
          vault.certificateNames[0] ?? '',
          await operatorCredential(credential),
        )
      : undefined
  const findings = diagnose(
    tenant,
    vaultKey === undefined ? view : { ...view, decryptionKey: vaultKey },
  )
  if (options.health) findings.push(await checkHealth(options.healthUrl))
  process.stdout.write(options.json ? `${JSON.stringify({ findings }, null, 2)}\n` : text(findings))
  process.exitCode = findings.some((f) => f.severity === 'error') ? 1 : 0
}

/** The public keys of the endpoint's key files, or the first file's problem. */
function readKeyFiles(files: readonly string[]): readonly EndpointKey[] | string {
  const keys: EndpointKey[] = []
  for (const file of files) {
    const key = localPublicKey(file)
    if (typeof key === 'string') return key
    keys.push({ spki: key.spki, source: file })
  }
  return keys
}

main().catch((err: unknown) => {
  fail(err instanceof SignInError ? 2 : 1, err instanceof Error ? err.message : String(err))
})
