// `npm run register`: registers the deployed endpoint in the tenant through Microsoft Graph, the
// way infrastructure tools do: it reads the tenant, prints the plan (tools/registration/plan.ts),
// stops there with --dry-run, asks before applying it when stdin and stderr are terminals (--yes
// does not ask; without a terminal it applies, as in CI; stdout may be piped, to tee), then
// applies it with a step counter on stderr (only when stderr is a terminal and --json is off)
// and prints the result (text, or --json with the plan) on stdout. Exit 0 done, 1 Graph failed or
// something could not be done (listed, with what to do), 2 bad arguments or settings.
import { parseArgs } from 'node:util'
import {
  ConfigError,
  EnvSchema,
  EXAMPLE_EXTENSION_CONFIG,
  loadExtensionConfig,
} from '../../src/config.js'
import type { EventRoute } from '../../src/events/routes.js'
import {
  DEFAULT_TIMEOUT_MS,
  GUID,
  MAX_TIMEOUT_MS,
  MIN_TIMEOUT_MS,
  TIMEOUT_HEADROOM_MS,
  printableText,
} from '../registration/entra-objects.js'
import { createInterface } from 'node:readline/promises'
import { CertificateError, readCertificateFile } from '../registration/certificate.js'
import {
  DEFAULT_MIGRATION_PROPERTY,
  listenerNeedsApps,
  needsCertificate,
  REGISTRABLE,
} from '../registration/desired.js'
import { GraphError } from '../graph/graph-error.js'
import { isWrite, type Plan } from '../registration/changes.js'
import {
  applyRegistration,
  planRegistration,
  RegisterError,
  type Change,
  type RegisterResult,
} from '../registration/register.js'
import { ApplyError } from '../registration/apply.js'
import { isHttpsUrl } from '../../src/secure-url.js'
import {
  operatorGraphClient,
  readOperatorCredential,
  retryLine,
  SignInError,
} from './operator-credential.js'

const ROUTE_NAMES = REGISTRABLE

const USAGE = `usage: npm run register -- --url <deployed base URL> --app <client appId> [options]

Creates or updates, idempotently, through Microsoft Graph: the extension's app registration
(identifier URI api://{host}/{appId}, v2 tokens; an --extension-app it did not create keeps its
token version, and the settings printed accept v1 tokens), its service principal, admin consent for
CustomAuthenticationExtension.Receive.Payload, one custom authentication extension per event,
its event listener for the --app apps, and for token issuance the claims mapping policy of the
claims EXTENSION_CONFIG configures, with acceptMappedClaims on each single-tenant --app (never on
a multi-tenant one: listed as a problem, to be given a custom signing key instead). A second run
changes nothing. For onPasswordSubmit (Graph beta): the certificate Entra encrypts passwords to
(--certificate), on the extension app as its encryption key, and the boolean migration property
on the tenant's b2c-extensions-app. Prints the plan, asks before applying it at a terminal, then
prints what it changed and the app settings the endpoint needs.

  --url <url>            the deployed base URL, e.g. https://contoso-ext.azurewebsites.net (required)
  --app <appId>          a client app whose sign-ins call the endpoint; repeat for several
                         (required for onTokenIssuanceStart)
  --events <list>        comma-separated, of ${ROUTE_NAMES.join(', ')}
                         (default onTokenIssuanceStart; the "on" may be left out)
  --event <name>         the same as --events
  --name <text>          display name of what is created (default "Entra custom extension")
  --extension-app <id>   use this existing app registration for the extension
  --timeout <ms>         Entra's timeout, ${MIN_TIMEOUT_MS}-${MAX_TIMEOUT_MS} (default REQUEST_BUDGET_MS + ${TIMEOUT_HEADROOM_MS})
  --retries <0|1>        Entra's retries (default 1)
  --no-claims-mapping    leave claims mapping and acceptMappedClaims alone
  --otp-fallback         OnOtpSend: Entra sends its own e-mail when the endpoint fails
  --certificate <file>   onPasswordSubmit: the PEM (or DER) certificate of the endpoint's
                         decryption key (required for onPasswordSubmit)
  --migration-property <name>  onPasswordSubmit: the boolean extension property that marks
                         the users to migrate (default ${DEFAULT_MIGRATION_PROPERTY})
  --dry-run              read the tenant, print the plan and every Graph call it would make,
                         change nothing
  --yes                  apply without asking (it asks first when stdin and stderr are
                         terminals; without them it applies, as in CI)
  --json                 print the plan and the result as JSON (no progress on stderr; there is
                         progress only when stderr is a terminal)
  -h, --help             this text

Identity: AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH with AZURE_CLIENT_ID and
AZURE_TENANT_ID; otherwise DefaultAzureCredential (az login), then a device code at a terminal.
Needs (delegated or application) Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All,
CustomAuthenticationExtension.ReadWrite.All, EventListener.ReadWrite.All,
Policy.ReadWrite.ApplicationConfiguration and Organization.Read.All.
Reads EXTENSION_CONFIG (claims), REQUEST_BUDGET_MS and GRAPH_BASE_URL like the endpoint does.
Exit codes: 0 done, 1 Graph failed or something could not be done, 2 bad arguments or settings.`

class UsageError extends Error {}

function fail(code: number, message: string): never {
  process.stderr.write(`register: ${message}\n`)
  process.exit(code)
}

function readOptions(env: NodeJS.ProcessEnv) {
  const { values } = parseArgs({
    allowPositionals: false,
    options: {
      url: { type: 'string' },
      app: { type: 'string', multiple: true, default: [] },
      events: { type: 'string', multiple: true, default: [] },
      event: { type: 'string', multiple: true, default: [] },
      name: { type: 'string', default: 'Entra custom extension' },
      'extension-app': { type: 'string' },
      timeout: { type: 'string' },
      retries: { type: 'string', default: '1' },
      'no-claims-mapping': { type: 'boolean', default: false },
      'otp-fallback': { type: 'boolean', default: false },
      certificate: { type: 'string' },
      'migration-property': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      yes: { type: 'boolean', short: 'y', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) return { help: true as const }
  if (values.url === undefined) throw new UsageError('--url is required')
  if (!isHttpsUrl(values.url)) throw new UsageError('--url: must be an https URL')
  const url = new URL(values.url)
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')
    throw new UsageError('--url: only scheme, host and path (no query, fragment or credentials)')
  if (url.pathname.replace(/\/+$/, '').toLowerCase().endsWith('/api'))
    throw new UsageError('--url: the base URL, without /api (the routes are added to it)')
  const apps = [...new Set(values.app.map((a) => a.trim().toLowerCase()))]
  for (const app of apps)
    if (!GUID.test(app)) throw new UsageError(`--app ${app}: must be an application (client) ID`)
  const named = [...values.events, ...values.event].flatMap((list) => list.split(','))
  const events = [
    ...new Set(
      (named.length === 0 ? ['onTokenIssuanceStart'] : named)
        .map((e) => e.trim())
        .map((e) =>
          ROUTE_NAMES.includes(e as EventRoute) ? e : `on${e.charAt(0).toUpperCase()}${e.slice(1)}`,
        ),
    ),
  ] as EventRoute[]
  for (const [index, event] of events.entries())
    if (!ROUTE_NAMES.includes(event))
      throw new UsageError(
        `--events: "${named[index]?.trim() ?? event}" is none of ${ROUTE_NAMES.join(', ')}`,
      )
  const needApps = events.filter(listenerNeedsApps)
  if (needApps.length > 0 && apps.length === 0)
    throw new UsageError(
      `--app is required for ${needApps.join(' and ')}: its listener must name the apps (includeAllApplications is not allowed)`,
    )
  const certificatePath = values.certificate?.trim()
  const needCertificate = events.filter(needsCertificate)
  if (needCertificate.length > 0 && certificatePath === undefined)
    throw new UsageError(
      `--certificate is required for ${needCertificate.join(' and ')}: the certificate of the key the endpoint decrypts with`,
    )
  let certificate: ReturnType<typeof readCertificateFile> | undefined
  if (certificatePath !== undefined)
    try {
      certificate = readCertificateFile(certificatePath)
    } catch (err) {
      if (err instanceof CertificateError) throw new UsageError(`--certificate ${err.message}`)
      throw err
    }
  const migrationProperty = values['migration-property']?.trim() ?? DEFAULT_MIGRATION_PROPERTY
  if (!/^[A-Za-z][A-Za-z0-9]{0,99}$/.test(migrationProperty))
    throw new UsageError('--migration-property: letters and digits, starting with a letter')
  const extensionApp = values['extension-app']?.trim().toLowerCase()
  if (extensionApp !== undefined && !GUID.test(extensionApp))
    throw new UsageError('--extension-app: must be an application (client) ID')
  const name = values.name.trim()
  if (name === '' || name.length > 100) throw new UsageError('--name: 1 to 100 characters')

  // Read as the endpoint reads it: the same range, the same message.
  const budget = EnvSchema.shape.REQUEST_BUDGET_MS.safeParse(
    env.REQUEST_BUDGET_MS?.trim() === '' ? undefined : env.REQUEST_BUDGET_MS,
  )
  if (!budget.success)
    throw new UsageError(`REQUEST_BUDGET_MS: ${budget.error.issues[0]?.message ?? 'is not valid'}`)
  const defaultTimeout = Math.min(
    MAX_TIMEOUT_MS,
    Math.max(DEFAULT_TIMEOUT_MS, budget.data + TIMEOUT_HEADROOM_MS),
  )
  if (values.timeout !== undefined && !/^\d{1,5}$/.test(values.timeout))
    throw new UsageError(
      `--timeout: a whole number of ms from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`,
    )
  const timeout = values.timeout === undefined ? defaultTimeout : Number(values.timeout)
  if (timeout < MIN_TIMEOUT_MS || timeout > MAX_TIMEOUT_MS)
    throw new UsageError(
      `--timeout: a whole number of ms from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS}`,
    )
  if (values.retries !== '0' && values.retries !== '1') throw new UsageError('--retries: 0 or 1')
  return {
    help: false as const,
    baseUrl: `${url.origin}${url.pathname.replace(/\/+$/, '')}`,
    apps,
    events,
    name,
    extensionApp,
    timeout,
    retries: Number(values.retries) as 0 | 1,
    claimsMapping: !values['no-claims-mapping'],
    otpFallback: values['otp-fallback'],
    certificate,
    migrationProperty,
    dryRun: values['dry-run'],
    yes: values.yes,
    json: values.json,
  }
}

const MARK: Record<Change['action'], string> = {
  created: '+',
  updated: '~',
  unchanged: '=',
  planned: '?',
  skipped: '-',
}

const line = (c: Change) => `${MARK[c.action]} ${c.step}: ${c.action}, ${c.detail}`

function text(result: RegisterResult, dryRun: boolean): string {
  const changed = result.changes.filter((c) => c.action === 'created' || c.action === 'updated')
  const lines = [
    dryRun
      ? `dry run: ${result.changes.filter((c) => c.action === 'planned').length} write(s) planned, nothing changed`
      : `${changed.length} change(s) made in tenant ${result.tenantId}`,
  ]
  if (dryRun)
    for (const c of result.changes.filter((x) => x.request !== undefined))
      lines.push(
        `  ${c.request?.method} ${c.request?.path}${Object.entries(c.request?.headers ?? {})
          .map(([name, value]) => ` (${name}: ${value})`)
          .join('')}`,
        `    ${JSON.stringify(c.request?.body)}`,
      )
  lines.push('', 'extensions:')
  for (const [route, id] of Object.entries(result.extensionIds)) lines.push(`  ${route}: ${id}`)
  if (result.validation.length > 0) {
    lines.push('', "Graph's validateAuthenticationConfiguration:")
    for (const v of result.validation)
      lines.push(`  ${v.route}: ${v.severity} ${v.code}: ${v.message}`)
  }
  if (result.notes.length > 0) {
    lines.push('', 'to note:')
    for (const n of result.notes) lines.push(`  - ${n}`)
  }
  if (result.problems.length > 0) {
    lines.push('', 'could not be done:')
    for (const p of result.problems) lines.push(`  - ${p}`)
  }
  lines.push(
    '',
    "the endpoint's app settings for this registration:",
    `  ENTRA_TENANT_ID=${result.settings.ENTRA_TENANT_ID}`,
    `  ENTRA_AUDIENCE=${result.settings.ENTRA_AUDIENCE}`,
    `  ENTRA_ISSUER=${result.settings.ENTRA_ISSUER}`,
  )
  return printableText(lines)
}

async function main(): Promise<void> {
  let options: ReturnType<typeof readOptions>
  try {
    options = readOptions(process.env)
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err))
      fail(2, `${err.message}\n\n${USAGE}`)
    throw err
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  let claimNames: string[]
  try {
    claimNames = Object.keys(loadExtensionConfig(process.env).tokenIssuanceStart.claims)
  } catch (err) {
    if (err instanceof ConfigError) fail(2, err.problems.join('; '))
    throw err
  }
  // The claims registered and mapped come from this file: say which, so that a forgotten
  // EXTENSION_CONFIG (the shipped example's claims) shows before anything is written.
  process.stderr.write(
    `claims from ${process.env.EXTENSION_CONFIG?.trim() || `${EXAMPLE_EXTENSION_CONFIG} (the shipped example: EXTENSION_CONFIG is not set)`}: ${claimNames.join(', ') || '(none)'}\n`,
  )
  const graphBaseUrl = process.env.GRAPH_BASE_URL?.trim() || 'https://graph.microsoft.com'
  if (!isHttpsUrl(graphBaseUrl)) fail(2, 'GRAPH_BASE_URL: must be an https URL')
  const credential = readOperatorCredential(process.env)
  if (typeof credential === 'string') fail(2, credential)
  const graph = operatorGraphClient(credential, graphBaseUrl, (retry) =>
    process.stderr.write(retryLine(retry)),
  )

  const input = {
    baseUrl: options.baseUrl,
    events: options.events,
    targetAppIds: options.apps,
    displayName: options.name,
    timeoutMs: options.timeout,
    maximumRetries: options.retries,
    claimNames,
    extensionAppId: options.extensionApp,
    claimsMapping: options.claimsMapping,
    otpFallback: options.otpFallback,
    certificate: options.certificate,
    migrationPropertyName: options.migrationProperty,
    dryRun: options.dryRun,
  }
  const done: Change[] = []
  try {
    const thePlan = await planRegistration(graph, input)
    const writes = thePlan.changes.filter(isWrite).length
    if (!options.json) process.stdout.write(planText(thePlan, options.baseUrl))
    // A person answers when stdin and stderr (where the question goes) are terminals, whatever
    // stdout is: `npm run register … | tee log` still asks. Without a terminal (CI, scripts) it
    // applies without asking, as --yes does.
    const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true
    // The step counter is for a person watching: quiet when stderr is not a terminal, or with
    // --json. What was done is in the result on stdout either way.
    const progress = process.stderr.isTTY === true && !options.json
    if (!options.dryRun && writes > 0 && !options.yes && interactive) {
      // With --json the plan's text is not on stdout: the person asked reads it on stderr.
      if (options.json) process.stderr.write(planText(thePlan, options.baseUrl))
      if (!(await confirm(`Apply ${writes} change(s) to tenant ${thePlan.tenantId}? [y/N] `))) {
        process.stderr.write('nothing changed.\n')
        process.exitCode = 1
        return
      }
    }
    const result = await applyRegistration(
      graph,
      thePlan,
      options.dryRun,
      (change, index, total) => {
        done.push(change)
        if (progress)
          process.stderr.write(printableText([`[${index + 1}/${total}] ${line(change)}`]))
      },
    )
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ dryRun: options.dryRun, ...result }, null, 2)}\n`
        : text(result, options.dryRun),
    )
    const broken = result.validation.some((v) => v.severity === 'error')
    process.exitCode = result.problems.length > 0 || broken ? 1 : 0
  } catch (err) {
    if (!(err instanceof GraphError || err instanceof RegisterError || err instanceof ApplyError))
      throw err
    const made = done.filter((c) => c.action === 'created' || c.action === 'updated')
    const hint =
      err instanceof GraphError && err.status === 403
        ? ' (the signed-in identity lacks a permission: see --help for the list)'
        : ''
    fail(
      1,
      options.dryRun
        ? `${err.message}${hint}\nstopped during the dry run: nothing was changed.`
        : `${err.message}${hint}\nstopped; ${made.length} change(s) were made before: ${made.map((c) => c.step).join('; ') || 'none'}. Running register again continues from here.`,
    )
  }
}

const PLAN_MARK = {
  create: '+',
  update: '~',
  unchanged: '=',
  'leave-alone': '!',
  conflict: 'x',
} as const

/** The plan as register prints it before applying it (and as --dry-run's first part). */
function planText(thePlan: Plan, baseUrl: string): string {
  const count = (kind: keyof typeof PLAN_MARK) =>
    thePlan.changes.filter((c) => c.kind === kind).length
  const lines = [`plan for ${baseUrl} in tenant ${thePlan.tenantId}:`]
  for (const c of thePlan.changes) {
    const what = c.kind === 'update' ? ` (${c.fields.join(', ')})` : ''
    lines.push(`  ${PLAN_MARK[c.kind]} ${c.kind} ${c.step}${what}: ${c.detail}`)
    if (c.kind === 'conflict') lines.push(`      ${c.problem}`)
    if (c.kind === 'leave-alone') lines.push(`      ${c.warning}`)
  }
  lines.push(
    `${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged, ${count('leave-alone')} left alone, ${count('conflict')} conflict(s)`,
    '',
  )
  return printableText(lines)
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim())
  } finally {
    rl.close()
  }
}

main().catch((err: unknown) => {
  fail(err instanceof SignInError ? 2 : 1, err instanceof Error ? err.message : String(err))
})
