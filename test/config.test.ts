// Start-up configuration: every problem reported at once, named, never with its value.
import { describe, expect, it } from 'vitest'
import { ConfigError, defaultIssuers, EXAMPLE_EXTENSION_CONFIG, loadConfig } from '../src/config.js'
import { writeExtensionConfig } from './support/endpoint.js'

const TENANT = '11111111-2222-4333-8444-555555555555'
const valid = { ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: 'a1b2c3d4-0000-4000-8000-00000000e0e0' }

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('environment', () => {
  it('starts with defaults and the example configuration', () => {
    const config = loadConfig(valid)
    expect(config).toMatchObject({
      tenantId: TENANT,
      audiences: ['a1b2c3d4-0000-4000-8000-00000000e0e0'],
      issuers: defaultIssuers(TENANT),
      requestBudgetMs: 750,
      maxBodyBytes: 65_536,
      clockToleranceSeconds: 120,
      extensionSource: { kind: 'example', path: EXAMPLE_EXTENSION_CONFIG },
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('defaults to the workforce and External ID issuers of the tenant', () => {
    expect(defaultIssuers(TENANT)).toEqual([
      `https://login.microsoftonline.com/${TENANT}/v2.0`,
      `https://${TENANT}.ciamlogin.com/${TENANT}/v2.0`,
    ])
  })

  it('splits comma-separated audiences and issuers, trimming blanks', () => {
    const config = loadConfig({
      ...valid,
      ENTRA_AUDIENCE: ' one , api://two ,',
      ENTRA_ISSUER: `https://contoso.ciamlogin.com/${TENANT}/v2.0/, https://sts.windows.net/${TENANT}/`,
    })
    expect(config.audiences).toEqual(['one', 'api://two'])
    expect(config.issuers).toEqual([
      `https://contoso.ciamlogin.com/${TENANT}/v2.0`,
      `https://sts.windows.net/${TENANT}/`,
    ])
  })

  it('normalises the tenant to lower case once', () => {
    expect(loadConfig({ ...valid, ENTRA_TENANT_ID: TENANT.toUpperCase() }).tenantId).toBe(TENANT)
  })

  it('reports every problem at once, naming each variable', () => {
    expect(problemsOf({ REQUEST_BUDGET_MS: '5000', LOG_LEVEL: 'loud' })).toEqual([
      'ENTRA_TENANT_ID: is required',
      'ENTRA_AUDIENCE: is required',
      'REQUEST_BUDGET_MS: must be a whole number of milliseconds from 100 to 1900 (default 750)',
      expect.stringMatching(/^LOG_LEVEL: /),
    ])
  })

  it.each(['abc', '0x2EE', '7.5e2', '750.0', '-5', '1e3'])(
    'takes decimal whole numbers only: REQUEST_BUDGET_MS=%s is refused, with unit and range',
    (value) => {
      expect(problemsOf({ ...valid, REQUEST_BUDGET_MS: value })).toEqual([
        'REQUEST_BUDGET_MS: must be a whole number of milliseconds from 100 to 1900 (default 750)',
      ])
    },
  )

  it('names the unit of each number setting', () => {
    expect(
      problemsOf({ ...valid, ENTRA_CLOCK_TOLERANCE_SECONDS: '301', LIMIT_BODY_BYTES: 'x' }),
    ).toEqual([
      'ENTRA_CLOCK_TOLERANCE_SECONDS: must be a whole number of seconds from 0 to 300 (default 120)',
      'LIMIT_BODY_BYTES: must be a whole number of bytes from 1024 to 1048576 (default 65536)',
    ])
    expect(loadConfig({ ...valid, REQUEST_BUDGET_MS: ' 900 ' }).requestBudgetMs).toBe(900)
  })

  it('treats an empty setting as unset', () => {
    expect(problemsOf({ ...valid, ENTRA_TENANT_ID: '  ' })).toEqual([
      'ENTRA_TENANT_ID: is required',
    ])
  })

  it('never repeats a value in a problem', () => {
    const secret = 'sup3r-s3cret-value'
    const problems = problemsOf({
      ENTRA_TENANT_ID: secret,
      ENTRA_AUDIENCE: 'x',
      ENTRA_ISSUER: `http://${secret}.example/`,
    })
    expect(problems).toEqual([
      'ENTRA_TENANT_ID: must be a GUID',
      'ENTRA_ISSUER.0: must be https URLs (http only for loopback hosts)',
    ])
    expect(problems.join('\n')).not.toContain(secret)
  })

  it('accepts plain http issuers on loopback only', () => {
    expect(
      loadConfig({ ...valid, ENTRA_ISSUER: `http://127.0.0.1:9999/${TENANT}/v2.0` }).issuers,
    ).toHaveLength(1)
    expect(
      problemsOf({ ...valid, ENTRA_ISSUER: `http://login.example/${TENANT}/v2.0` }),
    ).toHaveLength(1)
  })

  it('refuses an issuer that does not name the tenant', () => {
    expect(
      problemsOf({ ...valid, ENTRA_ISSUER: 'https://login.microsoftonline.com/common/v2.0' }),
    ).toEqual([
      `ENTRA_ISSUER: every issuer must contain the tenant ID as a path segment ("/${TENANT}/"), so that "iss" and "tid" agree`,
    ])
  })
})

describe('EXTENSION_CONFIG', () => {
  it('names a missing file', () => {
    expect(problemsOf({ ...valid, EXTENSION_CONFIG: '/nowhere/config.json' })).toEqual([
      'EXTENSION_CONFIG: /nowhere/config.json: file not found',
    ])
  })

  it('names a file that is not JSON, and where', () => {
    const path = writeExtensionConfig('{ nope')
    expect(problemsOf({ ...valid, EXTENSION_CONFIG: path })).toEqual([
      `EXTENSION_CONFIG: ${path}: not valid JSON at line 1, column 3`,
    ])
  })

  it('gives the line and column of a trailing comma, and none of the text', () => {
    const path = writeExtensionConfig(
      '{\n  "defaultLocale": "sv",\n  "secret-ish": "hunter2",\n}\n',
    )
    const problems = problemsOf({ ...valid, EXTENSION_CONFIG: path })
    expect(problems).toEqual([`EXTENSION_CONFIG: ${path}: not valid JSON at line 4, column 1`])
    expect(problems.join()).not.toContain('hunter2')
  })

  it('names each invalid field, unknown keys included', () => {
    const path = writeExtensionConfig({
      tokenIssuanceStart: {
        claims: {
          both: { value: 'x', from: 'user.id' },
          neither: {},
          badSource: { from: 'user.password' },
          'has space': { value: 'x' },
        },
        typo: true,
      },
    })
    const problems = problemsOf({ ...valid, EXTENSION_CONFIG: path })
    expect(problems).toEqual(
      expect.arrayContaining([
        `EXTENSION_CONFIG: ${path}: tokenIssuanceStart: Unrecognized key: "typo"`,
        `EXTENSION_CONFIG: ${path}: tokenIssuanceStart.claims.both: set exactly one of "value", "from" or "source"`,
        `EXTENSION_CONFIG: ${path}: tokenIssuanceStart.claims.neither: set exactly one of "value", "from" or "source"`,
        expect.stringMatching(/tokenIssuanceStart\.claims\.badSource\.from: Invalid option/),
        expect.stringMatching(
          /tokenIssuanceStart\.claims\.has space: claim names are 1-256 printable ASCII/,
        ),
      ]),
    )
  })

  it("refuses claims that could exceed Entra's 3 KB limit, before any request", () => {
    const claims = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e'].map((name) => [`name_${name}`, { from: 'user.displayName' }]),
    )
    const path = writeExtensionConfig({ tokenIssuanceStart: { claims } })
    expect(problemsOf({ ...valid, EXTENSION_CONFIG: path })).toEqual([
      `EXTENSION_CONFIG: ${path}: tokenIssuanceStart.claims: the configured claims can reach 5150 bytes, over Entra's limit of 3072 (error 1003025); remove claims or shorten values`,
    ])
  })

  it('resolves a relative path against the working directory', () => {
    const config = loadConfig(
      { ...valid, EXTENSION_CONFIG: 'config/extension-config.example.json' },
      process.cwd(),
    )
    expect(config.extensionSource).toEqual({ kind: 'file', path: EXAMPLE_EXTENSION_CONFIG })
  })
})
