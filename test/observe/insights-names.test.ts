// The report's extension names: read from Graph's customAuthenticationExtensions (the Entra Graph
// stand-in, which also serves the sign-in logs), from a --names file, or absent (IDs only, with a
// note on stderr); names and every other value escaped; the docs anchors the report links to exist.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { docsAnchor, EXTENSION_ERROR_CODES, fixFor } from '../../tools/observe/error-codes.js'
import { aggregateSignIns } from '../../tools/observe/sign-in-insights.js'
import { renderInsightsHtml } from '../../tools/observe/signin-report-html.js'
import {
  emptyEntraState,
  startEntraGraphServer,
  type EntraGraphStandIn,
} from '../support/entra-graph-server.js'
import { CLAIMS, OTP, signInWeek, WEEK_SINCE, WEEK_UNTIL } from '../support/sign-in-week.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'
import { runCli, signedIn } from '../support/operator-cli.js'

const ROOT = new URL('../../', import.meta.url).pathname
const EXTENSIONS_PATH = '/v1.0/identity/customAuthenticationExtensions'
/** Wednesday of the seeded week (its 401 wave included). */
const DAY = ['--since', '2026-11-04T00:00:00Z', '--until', '2026-11-05T00:00:00Z']

// Each test runs the CLI once or twice (seconds each on a busy machine): room, not a timed assertion.
describe('npm run insights --html: extension names', { timeout: 60_000 }, () => {
  let tokens: TokenEndpointStandIn
  let graph: EntraGraphStandIn
  let dir: string

  beforeAll(async () => {
    tokens = await startTokenEndpoint()
    const state = emptyEntraState(tokens.tenantId, 'CIAM')
    state.extensions = [
      {
        '@odata.type': '#microsoft.graph.onTokenIssuanceStartCustomExtension',
        id: CLAIMS.id,
        displayName: 'HR claims <b>prod</b>',
      },
    ]
    state.signIns = signInWeek().filter((s) => s.createdDateTime.startsWith('2026-11-04'))
    graph = await startEntraGraphServer({ tokens, state })
    dir = mkdtempSync(join(tmpdir(), 'insights-names-'))
  })
  afterAll(async () => {
    await graph.close()
    await tokens.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function insights(...args: string[]) {
    return runCli('insights', args, signedIn(tokens, graph.origin))
  }

  it('names an extension from Graph, escaped, and shows the others unnamed', async () => {
    const file = join(dir, 'graph.html')
    const r = await insights(...DAY, '--html', file)
    expect(r.code, r.stderr).toBe(0)
    expect(graph.requests.some((q) => q.path === EXTENSIONS_PATH && q.status === 200)).toBe(true)
    const html = readFileSync(file, 'utf8')
    expect(html).toContain('HR claims &lt;b&gt;prod&lt;/b&gt;')
    expect(html).not.toContain('<b>prod')
    expect(html).toContain('unnamed extension')
    // The docs link is relative to the report's folder.
    const docs = relative(dir, join(ROOT, 'docs/operations.md'))
    expect(html).toContain(`href="${docs}#entra-1003002"`)
  })

  it('reads the names through the shared Graph client: after a 429 with Retry-After, and past ten pages', async () => {
    const saved = graph.state.extensions
    const many = Array.from({ length: 11 }, (_, i) => ({
      '@odata.type': '#microsoft.graph.onTokenIssuanceStartCustomExtension',
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      displayName: `filler ${i}`,
    }))
    // The named one is last: on the 12th page of one.
    graph.state.extensions = [...many, ...saved]
    graph.pageSize = 1
    graph.throttleNext(1, 0, EXTENSIONS_PATH)
    const before = graph.requests.length
    try {
      const file = join(dir, 'paged.html')
      const r = await insights(...DAY, '--html', file)
      expect(r.code, r.stderr).toBe(0)
      const asked = graph.requests.slice(before).filter((q) => q.path === EXTENSIONS_PATH)
      expect(asked[0]?.status).toBe(429)
      expect(asked.filter((q) => q.status === 200)).toHaveLength(12)
      expect(decodeURIComponent(asked[0]!.query)).toContain('$select=id,displayName')
      expect(r.stderr).toContain(`GET ${EXTENSIONS_PATH}: 429, retrying`)
      expect(readFileSync(file, 'utf8')).toContain('HR claims &lt;b&gt;prod&lt;/b&gt;')
    } finally {
      graph.state.extensions = saved
      graph.pageSize = 100
      graph.throttleNext(0)
    }
  })

  it('uses a --names file instead of Graph; without names from either, notes why on stderr', async () => {
    const names = join(dir, 'names.json')
    writeFileSync(names, JSON.stringify({ [OTP.id.toUpperCase()]: 'OTP mails' }))
    const before = graph.requests.length
    const file = join(dir, 'file.html')
    const r = await insights(...DAY, '--names', names, '--html', file)
    expect(r.code).toBe(0)
    expect(graph.requests.slice(before).some((q) => q.path === EXTENSIONS_PATH)).toBe(false)
    expect(readFileSync(file, 'utf8')).toContain('OTP mails')

    graph.denied.add(EXTENSIONS_PATH)
    try {
      const denied = await insights(...DAY, '--html', join(dir, 'denied.html'))
      expect(denied.code).toBe(0)
      expect(denied.stderr).toMatch(
        /extension names: Graph answered HTTP 403 Authorization_RequestDenied .*--names <file>/,
      )
    } finally {
      graph.denied.delete(EXTENSIONS_PATH)
    }
  })

  it('exits 2 on a --names file that is not an ID → name object, before reading Graph', async () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, '{"a": 1,}')
    const before = graph.requests.length
    const r = await insights(...DAY, '--names', bad, '--html', join(dir, 'x.html'))
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--names: .*bad\.json is not valid JSON/)
    writeFileSync(bad, '["x"]')
    const wrongShape = await insights(...DAY, '--names', bad)
    expect(wrongShape.code).toBe(2)
    expect(wrongShape.stderr).toMatch(/must be one JSON object of extension ID → name/)
    expect(graph.requests.length).toBe(before)
  })
})

describe('renderInsightsHtml', () => {
  it('escapes names, event types, app names and IDs, and links every error code to its docs anchor', () => {
    const evil = '"><img src=x onerror=alert(1)>'
    const records = signInWeek()
      .slice(0, 300)
      .map((r, i) =>
        i === 0 ? { ...r, appDisplayName: evil, appId: `${evil}-id`, correlationId: evil } : r,
      )
    const insights = aggregateSignIns(records, {
      since: new Date(WEEK_SINCE),
      until: new Date(WEEK_UNTIL),
    })
    const html = renderInsightsHtml(insights, {
      since: new Date(WEEK_SINCE),
      until: new Date(WEEK_UNTIL),
      generatedAt: new Date(WEEK_UNTIL),
      pages: 1,
      truncated: false,
      names: new Map([[CLAIMS.id, evil]]),
      docsHref: 'x".html',
    })
    expect(html).not.toContain('<img')
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;')
    expect(html).toContain('href="x&quot;.html#entra-')
    expect(html).not.toMatch(/<script|https?:\/\//i)
  })

  it('finds every anchor it links to in docs/operations.md', () => {
    const docs = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')
    for (const code of EXTENSION_ERROR_CODES.keys())
      expect(docs, `anchor of ${code}`).toContain(`id="${docsAnchor(code)}"`)
    expect(docs).toMatch(/^### Failure reasons$/m)
    // Each code's row gives the fix the report prints.
    for (const code of EXTENSION_ERROR_CODES.keys()) {
      const row = docs.split('\n').find((line) => line.includes(`id="${docsAnchor(code)}"`))
      expect(row, `row of ${code}`).toContain(fixFor(code))
    }
  })
})
