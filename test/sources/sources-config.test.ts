// tokenIssuanceStart.sources and the Graph credential settings at start-up: every problem named.
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../src/config.js'
import { writeExtensionConfig } from '../support/endpoint.js'

const TENANT = '11111111-2222-4333-8444-555555555555'
const valid = { ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: 'a1b2c3d4-0000-4000-8000-00000000e0e0' }

function problemsFor(extension: unknown, env: Record<string, string> = {}): string[] {
  const path = writeExtensionConfig(extension)
  try {
    loadConfig({ ...valid, ...env, EXTENSION_CONFIG: path })
  } catch (err) {
    if (err instanceof ConfigError)
      return err.problems.map((problem) => problem.replace(`EXTENSION_CONFIG: ${path}: `, ''))
    throw err
  }
  throw new Error('expected a ConfigError')
}

describe('sources', () => {
  it('names unknown sources, placeholders, paths and misplaced fields', () => {
    const problems = problemsFor({
      tokenIssuanceStart: {
        sources: {
          hr: { type: 'http', url: 'https://hr.example.com/{user.password}' },
          plain: { type: 'http', url: 'http://hr.example.com/x' },
          getWithBody: { type: 'http', url: 'https://x.example.com', body: { a: 'b' } },
          graph: { type: 'graph', query: 'everything' },
        },
        claims: {
          a: { source: 'nope', path: 'x' },
          b: { source: 'hr', path: 'a..b' },
          c: { value: 'x', path: 'y' },
        },
      },
    })
    expect(problems).toEqual(
      expect.arrayContaining([
        'tokenIssuanceStart.sources.hr.url: unknown placeholder {user.password}; use a request field such as {user.id}',
        'tokenIssuanceStart.sources.plain.url: must be an https URL (http only for loopback hosts)',
        'tokenIssuanceStart.sources.getWithBody.body: "body" goes with "method": "POST"',
        expect.stringMatching(/^tokenIssuanceStart\.sources\.graph\.query: Invalid option/),
        expect.stringMatching(
          /^tokenIssuanceStart\.claims\.b\.path: path is not a JMESPath expression: /,
        ),
        'tokenIssuanceStart.claims.c.path: "path" and "transforms" go with "source"',
      ]),
    )
  })

  it('names a claim whose source does not exist', () => {
    expect(
      problemsFor({ tokenIssuanceStart: { claims: { a: { source: 'nope', path: 'x' } } } }),
    ).toEqual([
      'tokenIssuanceStart.claims.a.source: no source named "nope" in tokenIssuanceStart.sources',
    ])
  })

  it('requires the secret setting a source names, and never prints its value', () => {
    const extension = {
      tokenIssuanceStart: {
        sources: {
          hr: {
            type: 'http',
            url: 'https://hr.example.com/{user.id}',
            auth: { type: 'header', name: 'x-api-key', secretSetting: 'HR_API_KEY' },
          },
        },
        claims: { a: { source: 'hr', path: 'a' } },
      },
    }
    expect(problemsFor(extension)).toEqual([
      'HR_API_KEY: is required (EXTENSION_CONFIG tokenIssuanceStart.sources.hr.auth.secretSetting names it)',
    ])
  })
})

describe('Graph settings', () => {
  it('uses the managed identity unless a secret or certificate is configured', () => {
    expect(loadConfig(valid).graph).toEqual({
      baseUrl: 'https://graph.microsoft.com',
      credential: { kind: 'managedIdentity', clientId: undefined },
    })
    const secret = loadConfig({
      ...valid,
      AZURE_CLIENT_ID: '22222222-2222-4222-8222-222222222222',
      AZURE_CLIENT_SECRET: 'sekrit',
      GRAPH_BASE_URL: 'https://graph.microsoft.us',
    }).graph
    expect(secret).toEqual({
      baseUrl: 'https://graph.microsoft.us',
      credential: {
        kind: 'clientSecret',
        tenantId: TENANT,
        clientId: '22222222-2222-4222-8222-222222222222',
        secret: 'sekrit',
        authorityHost: undefined,
      },
    })
  })

  it('names each problem, never a secret', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...valid, ...env })
      } catch (err) {
        if (err instanceof ConfigError) return err.problems
        throw err
      }
      return []
    }
    expect(problems({ AZURE_CLIENT_SECRET: 'sekrit' })).toEqual([
      'AZURE_CLIENT_ID: is required with AZURE_CLIENT_SECRET',
    ])
    expect(
      problems({
        AZURE_CLIENT_ID: '22222222-2222-4222-8222-222222222222',
        AZURE_CLIENT_SECRET: 'sekrit',
        AZURE_CLIENT_CERTIFICATE_PATH: '/cert.pem',
      }),
    ).toEqual(['AZURE_CLIENT_SECRET: set it or AZURE_CLIENT_CERTIFICATE_PATH, not both'])
    const bad = problems({ GRAPH_BASE_URL: 'http://graph.example', AZURE_CLIENT_ID: 'sekrit' })
    expect(bad).toEqual(['GRAPH_BASE_URL: must be an https URL', 'AZURE_CLIENT_ID: must be a GUID'])
    expect(bad.join('\n')).not.toContain('sekrit')
  })
})
