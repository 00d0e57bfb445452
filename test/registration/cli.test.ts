// `npm run register` and `npm run doctor` as an operator runs them: child processes signed in with
// a client secret against the token-endpoint stand-in, talking HTTPS to the stateful Graph
// stand-in (trusted through the CA made at test time). register builds the tenant; doctor passes
// it, then finds each seeded misconfiguration and says the fix.
import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ROUTE_TYPES } from '../../tools/registration/entra-objects.js'
import { CHECKED_BY_DEFAULT } from '../../tools/registration/desired.js'
import {
  emptyEntraState,
  startEntraGraphServer,
  type EntraGraphStandIn,
  type EntraGraphState,
} from '../support/entra-graph-server.js'
import { testTls } from '../support/test-ca.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'
import {
  runCli,
  runCliAtTerminal,
  signedIn,
  type CliRun,
  type OperatorCli,
} from '../support/operator-cli.js'

// Every test here starts the CLIs as processes (tsx compiles the tools each time: seconds apiece
// on a busy 2-core machine), several per test.
vi.setConfig({ testTimeout: 90_000 })

/** The four events register handles without more options (onPasswordSubmit needs a certificate). */
const ROUTES = CHECKED_BY_DEFAULT
const BASE = 'https://contoso-ext.azurewebsites.net'
const CLIENT = 'c1c1c1c1-0000-4000-8000-000000000001'
const OTHER_CLIENT = 'c2c2c2c2-0000-4000-8000-000000000002'

interface Finding {
  readonly severity: string
  readonly code: string
  readonly message: string
  readonly fix: string
}

let tokens: TokenEndpointStandIn
let stand: EntraGraphStandIn
/** The tenant after `register` made it, and the settings it printed. */
let registered: EntraGraphState
let settings: { ENTRA_TENANT_ID: string; ENTRA_AUDIENCE: string; ENTRA_ISSUER: string }

function customerTenant(): EntraGraphState {
  const state = emptyEntraState(tokens.tenantId, 'CIAM')
  for (const appId of [CLIENT, OTHER_CLIENT]) {
    state.applications.push({
      id: randomUUID(),
      appId,
      displayName: 'Client',
      identifierUris: [],
      api: { requestedAccessTokenVersion: null, acceptMappedClaims: null },
      requiredResourceAccess: [],
    })
    state.servicePrincipals.push({
      id: randomUUID(),
      appId,
      displayName: 'Client',
      accountEnabled: true,
    })
  }
  return state
}

function run(cli: OperatorCli, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(cli, args, { ...signedIn(tokens, stand.origin), ...env })
}

const doctorEnv = () => ({
  ENTRA_TENANT_ID: settings.ENTRA_TENANT_ID,
  ENTRA_AUDIENCE: settings.ENTRA_AUDIENCE,
  ENTRA_ISSUER: settings.ENTRA_ISSUER,
})

async function doctorJson(args: string[], env: Record<string, string> = {}) {
  const r = await run('doctor', ['--url', BASE, '--app', CLIENT, '--json', ...args], {
    ...doctorEnv(),
    ...env,
  })
  const { findings } = JSON.parse(r.stdout) as { findings: Finding[] }
  return { code: r.code, findings, problems: findings.filter((f) => f.severity !== 'ok') }
}

beforeAll(async () => {
  tokens = await startTokenEndpoint()
  stand = await startEntraGraphServer({ tokens, state: emptyEntraState(tokens.tenantId) })
  stand.state = customerTenant()
  stand.pageSize = 2 // every list takes several pages
})
afterAll(async () => {
  await stand?.close()
  await tokens?.close()
})

describe('npm run register', () => {
  it('answers --help, and refuses bad arguments with exit 2 before calling Graph', async () => {
    const help = await run('register', ['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--dry-run')
    const before = stand.requests.length
    for (const [args, message] of [
      [['--url', BASE], '--app is required for onTokenIssuanceStart'],
      [['--url', 'http://example.org', '--app', CLIENT], '--url: must be an https URL'],
      [['--url', `${BASE}/api`, '--app', CLIENT], 'without /api'],
      [['--url', BASE, '--app', 'not-a-guid'], '--app not-a-guid: must be an application'],
      [['--url', BASE, '--app', CLIENT, '--events', 'onSignIn'], '--events: "onSignIn" is none of'],
      [['--url', BASE, '--app', CLIENT, '--timeout', '5000'], '--timeout: a whole number'],
      [['--url', BASE, '--app', CLIENT, '--bogus'], "Unknown option '--bogus'"],
    ] as const) {
      const r = await run('register', [...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toContain(message)
    }
    // REQUEST_BUDGET_MS is read as the endpoint reads it (it was clamped to a timeout in silence).
    const budget = await run('register', ['--url', BASE, '--app', CLIENT], {
      REQUEST_BUDGET_MS: '5000',
    })
    expect(budget.code).toBe(2)
    expect(budget.stderr).toContain(
      'REQUEST_BUDGET_MS: must be a whole number of milliseconds from 100 to 1900 (default 750)',
    )
    expect(stand.requests.length).toBe(before)
  }, 90_000)

  it('--dry-run --json plans every write and makes none', async () => {
    const before = stand.requests.length
    const r = await run('register', [
      '--url',
      BASE,
      '--app',
      CLIENT,
      '--events',
      ROUTES.join(','),
      '--dry-run',
      '--json',
    ])
    expect(r.code).toBe(0)
    expect(stand.requests.slice(before).filter((q) => q.method !== 'GET')).toEqual([])
    const out = JSON.parse(r.stdout) as {
      dryRun: boolean
      changes: { action: string; request?: { method: string; path: string } }[]
    }
    expect(out.dryRun).toBe(true)
    const planned = out.changes.filter((c) => c.action === 'planned')
    // SP ×2, app, identifier URI, consent, 4 extensions, 4 listeners, policy, assignment, acceptMappedClaims.
    expect(planned).toHaveLength(16)
    expect(planned.every((c) => c.request !== undefined)).toBe(true)
  })

  it('registers, prints the summary and the settings, and changes nothing the second time', async () => {
    const args = ['--url', BASE, '--app', CLIENT, '--events', ROUTES.join(','), '--otp-fallback']
    const first = await run('register', args)
    // stderr is piped, not a terminal: no step counter (the summary below is on stdout).
    expect(first.stderr).not.toMatch(/\[\d+\/\d+\]/)
    expect(first.code).toBe(0)
    expect(first.stdout).toContain(`16 change(s) made in tenant ${tokens.tenantId}`)
    const appId = /ENTRA_AUDIENCE=([0-9a-f-]{36})/.exec(first.stdout)?.[1]
    expect(appId).toBeDefined()
    expect(first.stdout).toContain(
      `ENTRA_ISSUER=https://login.microsoftonline.com/${tokens.tenantId}/v2.0,https://${tokens.tenantId}.ciamlogin.com/${tokens.tenantId}/v2.0\n`,
    )

    const mark = stand.requests.length
    const second = await run('register', [...args, '--json'])
    expect(second.code).toBe(0)
    expect(
      stand.requests
        .slice(mark)
        .filter(
          (q) => q.method !== 'GET' && !q.path.endsWith('/validateAuthenticationConfiguration'),
        ),
    ).toEqual([])
    const out = JSON.parse(second.stdout) as {
      changes: { action: string }[]
      settings: typeof settings
    }
    expect(new Set(out.changes.map((c) => c.action))).toEqual(new Set(['unchanged']))
    settings = out.settings
    expect(settings.ENTRA_AUDIENCE).toBe(appId)
    registered = structuredClone(stand.state)
  }, 90_000) // two register runs, each a tsx process start (seconds on a busy 2-core machine)

  it('stops on a Graph 403 with exit 1, naming the call and what was done before', async () => {
    stand.state = customerTenant()
    stand.denied.add('POST /v1.0/identity/authenticationEventListeners')
    const r = await run('register', ['--url', BASE, '--app', CLIENT])
    stand.denied.clear()
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      'POST /v1.0/identity/authenticationEventListeners: HTTP 403 Authorization_RequestDenied',
    )
    expect(r.stderr).toContain('lacks a permission')
    expect(r.stderr).toMatch(/6 change\(s\) were made before: .*extension onTokenIssuanceStart/)
    expect(r.stderr).not.toContain(tokens.clientSecret)
    stand.state = structuredClone(registered)
  })
  it('says a dry run that Graph stopped changed nothing (not that a re-run continues)', async () => {
    stand.state = customerTenant()
    stand.denied.add('GET /beta/identity/authenticationEventListeners')
    const r = await run('register', ['--url', BASE, '--app', CLIENT, '--dry-run'])
    stand.denied.clear()
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('HTTP 403 Authorization_RequestDenied')
    expect(r.stderr).toContain('stopped during the dry run: nothing was changed.')
    expect(r.stderr).not.toContain('continues from here')
    stand.state = structuredClone(registered)
  })
  it('asks the person at the terminal (stdin and stderr) even when stdout is piped, with --json shows the plan on stderr first, and shows progress only at a terminal without --json', async () => {
    stand.state = customerTenant()
    const args = ['--url', BASE, '--app', CLIENT]
    const writes = () => stand.requests.filter((q) => q.method !== 'GET').length
    const before = writes()
    // stdout to a file, as `npm run register … | tee log`: the question is still asked; "n" stops it.
    const no = await runCliAtTerminal('register', args, signedIn(tokens, stand.origin), ['n'])
    expect(no.terminal).toMatch(/Apply \d+ change\(s\) to tenant [0-9a-f-]{36}\? \[y\/N\] /)
    expect(no.terminal).toContain('nothing changed.')
    expect(no.code).toBe(1)
    expect(no.stdout).toContain(`plan for ${BASE} in tenant ${tokens.tenantId}:`)
    expect(writes()).toBe(before)

    // --json: stdout is only JSON; the person asked reads the plan's summary on stderr before.
    const yes = await runCliAtTerminal(
      'register',
      [...args, '--json'],
      signedIn(tokens, stand.origin),
      ['y'],
    )
    expect(yes.code).toBe(0)
    const summary = yes.terminal.search(/\d+ to create, \d+ to update, \d+ unchanged/)
    expect(summary).toBeGreaterThanOrEqual(0)
    expect(summary).toBeLessThan(yes.terminal.indexOf('[y/N] '))
    expect(yes.terminal).toContain('+ create extension onTokenIssuanceStart')
    const out = JSON.parse(yes.stdout) as { changes: { action: string }[] }
    expect(out.changes.some((c) => c.action === 'created')).toBe(true)
    expect(writes()).toBeGreaterThan(before)
    // --json: no step counter, even at a terminal.
    expect(yes.terminal).not.toMatch(/\[\d+\/\d+\]/)

    // At a terminal without --json: the step counter, one line per write.
    stand.state = customerTenant()
    const shown = await runCliAtTerminal(
      'register',
      [...args, '--yes'],
      signedIn(tokens, stand.origin),
      [],
    )
    expect(shown.code).toBe(0)
    expect(shown.terminal).toMatch(/^\[1\/\d+\] \+ /m)
    expect(shown.terminal).toContain('+ extension onTokenIssuanceStart: created')
    stand.state = structuredClone(registered)
  })
})

describe('npm run doctor', () => {
  it('passes the tenant register made: exit 0, no error, no warning, every page read', async () => {
    stand.state = structuredClone(registered)
    const r = await run('doctor', ['--url', BASE, '--app', CLIENT], doctorEnv())
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain('0 error(s), 0 warning(s)')
    expect(r.code).toBe(0)
  })

  type Seed = (s: EntraGraphState) => void
  const ext = (s: EntraGraphState, route: (typeof ROUTES)[number]) =>
    s.extensions.find((e) => e['@odata.type'] === ROUTE_TYPES[route].extension)!
  const cases: [string, Seed, string[], Record<string, string>?, string?][] = [
    [
      'extension of the wrong type',
      (s) =>
        (ext(s, 'onOtpSend').endpointConfiguration = {
          targetUrl: `${BASE}/api/onAttributeCollectionStart`,
        }),
      ['extension-type-mismatch', 'extension-missing'],
    ],
    [
      'target URL not the deployment',
      (s) =>
        (ext(s, 'onTokenIssuanceStart').endpointConfiguration = {
          targetUrl: 'https://old-ext.azurewebsites.net/api/onTokenIssuanceStart',
        }),
      // …and so no extension points at the deployment's token issuance route.
      ['target-url-host', 'resource-id-host', 'extension-missing'],
    ],
    [
      'resourceId/audience mismatch with ENTRA_AUDIENCE',
      () => {},
      ['audience-mismatch'],
      { ENTRA_AUDIENCE: randomUUID() },
    ],
    ['permission not consented', (s) => (s.appRoleAssignments = []), ['permission-not-consented']],
    [
      'listener not bound to the app',
      () => {},
      ['listener-app-missing', 'claim-not-mapped', 'accept-mapped-claims-off'],
      {},
      OTHER_CLIENT,
    ],
    [
      'claims not in the mapping policy',
      (s) =>
        (s.claimsMappingPolicies[0]!.definition = [
          JSON.stringify({
            ClaimsMappingPolicy: {
              Version: 1,
              ClaimsSchema: [
                { Source: 'CustomClaimsProvider', ID: 'apiVersion', JwtClaimType: 'v' },
              ],
            },
          }),
        ]),
      ['claim-not-mapped'],
    ],
    [
      'issuer mismatch (workforce issuer, External ID tenant)',
      () => {},
      ['issuer-mismatch'],
      { ENTRA_ISSUER: `https://login.microsoftonline.com/${'TENANT'}/v2.0` },
    ],
    [
      'timeout below what the budget needs',
      () => {},
      ['timeout-below-budget'],
      { REQUEST_BUDGET_MS: '1200' },
    ],
    [
      'the caller’s service principal deleted',
      (s) =>
        (s.servicePrincipals = s.servicePrincipals.filter(
          (p) => p.appId !== '99045fe1-7639-4a75-9d4a-577b6ca3810f',
        )),
      ['auth-events-sp-missing'],
    ],
    [
      'extension deleted',
      (s) =>
        (s.extensions = s.extensions.filter(
          (e) => e['@odata.type'] !== ROUTE_TYPES.onOtpSend.extension,
        )),
      ['extension-missing'],
    ],
  ]
  it.each(cases)(
    'finds %s, and says the fix',
    async (_name, seed, codes, env = {}, app = CLIENT) => {
      stand.state = structuredClone(registered)
      seed(stand.state)
      const withTenant = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, v.replace('TENANT', tokens.tenantId)]),
      )
      const { code, problems } = await doctorJson(['--app', app], withTenant)
      expect([...new Set(problems.map((f) => f.code))].sort()).toEqual([...codes].sort())
      for (const f of problems) expect(f.fix.length, f.code).toBeGreaterThan(20)
      expect(code).toBe(problems.some((f) => f.severity === 'error') ? 1 : 0)
    },
  )

  it('prints text from Graph with its terminal escapes neutralised (claim names, IDs)', async () => {
    const ESC = '\u001b'
    stand.state = structuredClone(registered)
    const extension = ext(stand.state, 'onTokenIssuanceStart')
    extension.claimsForTokenConfiguration = [
      ...(extension.claimsForTokenConfiguration as object[]),
      { claimIdInApiResponse: `evil${ESC}[2J${ESC}]0;owned\u0007` },
    ]
    const diagnosed = await run('doctor', ['--url', BASE, '--app', CLIENT], doctorEnv())
    expect(diagnosed.stdout).toContain('[claim-not-served]')
    expect(diagnosed.stdout).toContain('evil?[2J?]0;owned?')
    // eslint-disable-next-line no-control-regex -- no control character but newlines is the point
    expect(diagnosed.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)

    // Another extension's listener binds the app: register names its IDs in the conflict.
    stand.state = structuredClone(registered)
    stand.state.listeners.push({
      id: `listener${ESC}[31m`,
      '@odata.type': ROUTE_TYPES.onTokenIssuanceStart.listener,
      conditions: { applications: { includeApplications: [{ appId: CLIENT }] } },
      handler: {
        '@odata.type': ROUTE_TYPES.onTokenIssuanceStart.handler,
        customExtension: { id: `other${ESC}]0;owned\u0007` },
      },
    })
    const planned = await run('register', ['--url', BASE, '--app', CLIENT, '--dry-run'])
    expect(planned.stdout).toContain('listener?[31m already binds onTokenIssuanceStart')
    expect(planned.stdout).toContain('to extension other?]0;owned?')
    // eslint-disable-next-line no-control-regex -- no control character but newlines is the point
    expect(planned.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    stand.state = structuredClone(registered)
  })

  it('checks the health route with --health, and fails with exit 1 when Graph refuses', async () => {
    const tls = await testTls()
    let status = 200
    const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      res
        .writeHead(req.url === '/api/health' ? status : 404, { 'content-type': 'application/json' })
        .end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    try {
      stand.state = structuredClone(registered)
      const ok = await run('doctor', ['--url', url, '--health', '--json'], doctorEnv())
      const found = (JSON.parse(ok.stdout) as { findings: Finding[] }).findings
      expect(found.find((f) => f.code.startsWith('health'))).toMatchObject({ code: 'health-ok' })
      status = 503
      const down = await run('doctor', ['--url', url, '--health', '--json'], doctorEnv())
      const downFound = (JSON.parse(down.stdout) as { findings: Finding[] }).findings
      expect(downFound.find((f) => f.code.startsWith('health'))).toMatchObject({
        code: 'health-failed',
        message: `GET ${url}/api/health: HTTP 503`,
        fix: expect.stringContaining('mail_credential_failed') as unknown,
      })
      expect(down.code).toBe(1)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }

    stand.denied.add('/beta/identity/authenticationEventListeners')
    const denied = await run('doctor', ['--url', BASE], doctorEnv())
    stand.denied.clear()
    expect(denied.code).toBe(1)
    expect(denied.stderr).toContain('HTTP 403 Authorization_RequestDenied')

    const usage = await run('doctor', ['--app', 'x'])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain('--url is required')
    const withApi = await run('doctor', ['--url', `${BASE}/api`], doctorEnv())
    expect(withApi.code).toBe(2)
    expect(withApi.stderr).toContain('--url: the base URL, without /api')
  }, 90_000)

  it('needs none of the endpoint’s secrets: a mail provider without its key is not its concern', async () => {
    stand.state = structuredClone(registered)
    const r = await run('doctor', ['--url', BASE, '--app', CLIENT], {
      ...doctorEnv(),
      MAIL_PROVIDER: 'sendgrid',
      MAIL_FROM: 'no-reply@contoso.test',
    })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const bad = await run('doctor', ['--url', BASE], { ...doctorEnv(), ENTRA_TENANT_ID: 'nope' })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('ENTRA_TENANT_ID')
  })
})

describe('the walkthrough of docs/deployment.md and docs/registration.md: register, doctor, insights against one tenant', () => {
  it('goes from an empty tenant to a registered, diagnosed and observed extension', async () => {
    stand.state = customerTenant()
    const registeredRun = await run('register', ['--url', BASE, '--app', CLIENT, '--json'])
    expect(registeredRun.code).toBe(0)
    // After a real run the changes name what Graph made, in details and requests alike (the
    // plan, as planned, keeps its placeholders and what binds them).
    const made = JSON.parse(registeredRun.stdout) as {
      changes: { request?: unknown }[]
      extensionAppId: string
    }
    expect(made.changes.filter((c) => c.request !== undefined).length).toBeGreaterThan(5)
    expect(JSON.stringify(made.changes)).not.toContain('<new ')
    expect(made.extensionAppId).toMatch(/^[0-9a-f-]{36}$/)
    const result = JSON.parse(registeredRun.stdout) as {
      settings: typeof settings
      extensionIds: { onTokenIssuanceStart: string }
    }
    const extensionId = result.extensionIds.onTokenIssuanceStart
    const listenerId = stand.state.listeners[0]!.id

    const diagnosed = await run('doctor', ['--url', BASE, '--app', CLIENT], result.settings)
    expect(diagnosed.code).toBe(0)
    expect(diagnosed.stdout).toMatch(/^0 error\(s\)/m)

    // Entra's sign-in log after three sign-ins: two answered, one timed out after a retry.
    const now = Date.now()
    const signIn = (minutesAgo: number, result: Record<string, unknown>) => ({
      id: randomUUID(),
      createdDateTime: new Date(now - minutesAgo * 60_000).toISOString(),
      appliedEventListeners: [
        {
          '@odata.type': '#microsoft.graph.appliedAuthenticationEventListener',
          eventType: 'tokenIssuanceStart',
          executedListenerId: listenerId,
          handlerResult: {
            '@odata.type': '#microsoft.graph.customExtensionCalloutResult',
            customExtensionId: extensionId,
            calloutDateTime: new Date(now - minutesAgo * 60_000 + 500).toISOString(),
            numberOfAttempts: 1,
            httpStatus: 200,
            errorCode: null,
            ...result,
          },
        },
      ],
    })
    stand.state.signIns = [
      signIn(5, {}),
      signIn(30, { numberOfAttempts: 2, httpStatus: null, errorCode: 1003005 }),
      signIn(90, {}),
      { ...signIn(60 * 30, {}), id: 'outside the range' },
    ]
    const observed = await run('insights', ['--since', '24h', '--page-size', '2', '--json'])
    expect(observed.code).toBe(0)
    const insights = JSON.parse(observed.stdout) as {
      signIns: number
      extensions: {
        customExtensionId: string
        calls: number
        successes: number
        retries: number
        byErrorCode: { code: number; count: number }[]
      }[]
    }
    expect(insights.signIns).toBe(3)
    expect(insights.extensions).toEqual([
      expect.objectContaining({
        customExtensionId: extensionId,
        calls: 3,
        successes: 2,
        retries: 1,
        byErrorCode: [expect.objectContaining({ code: 1003005, count: 1 })],
      }),
    ])
    // Two pages of two at most: the range filter reached Graph, and the nextLink was followed.
    const pages = stand.requests.filter((r) => r.path === '/beta/auditLogs/signIns')
    expect(pages.length).toBe(2)
    expect(decodeURIComponent(pages[0]!.query)).toContain('createdDateTime ge ')
  })
})
