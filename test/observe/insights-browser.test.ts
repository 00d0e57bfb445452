// `npm run insights -- --html` on a seeded week of sign-ins (test/support/sign-in-week.ts), served by
// the loopback sign-in log stand-in, then opened in headless Chromium (Debian's package; .ci/run
// installs it when missing): the checks read the DOM Chromium built, and screenshots of the page at
// desktop and phone width are kept in artifacts/ for review. The expected numbers are counted from
// the seeded records here, not taken from the aggregation.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSignInLogServer, type SignInLogStandIn } from '../support/sign-in-log-server.js'
import {
  CLAIMS,
  INCIDENTS,
  OTP,
  SEED_EXTENSIONS,
  SEED_NAMES,
  signInWeek,
  WEEK_SIGN_INS,
  WEEK_SINCE,
  WEEK_UNTIL,
} from '../support/sign-in-week.js'
import { startTokenEndpoint, type TokenEndpointStandIn } from '../support/token-endpoint.js'
import { runCli, signedIn } from '../support/operator-cli.js'

const ROOT = new URL('../../', import.meta.url).pathname
const ARTIFACTS = join(ROOT, 'artifacts')
const CHROMIUM = process.env.CHROMIUM ?? 'chromium'
const run = promisify(execFile)

interface Callout {
  readonly customExtensionId: string
  readonly httpStatus: number | null
  readonly errorCode: number | null
}

const WEEK = signInWeek()
const callouts = (records = WEEK): Callout[] =>
  records.flatMap((r) =>
    (r.appliedEventListeners as { handlerResult: Callout }[]).map((l) => l.handlerResult),
  )

/** Success rate as the report prints it, counted from the records. */
function successText(id: string): string {
  const calls = callouts().filter((c) => c.customExtensionId === id)
  const ok = calls.filter((c) => c.httpStatus === 200 && c.errorCode === null).length
  return `${((ok / calls.length) * 100).toFixed(1)}%`
}

/** A Chromium headless run with its own profile (runs may overlap). */
async function chromium(...args: string[]): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-'))
  try {
    const { stdout } = await run(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        '--no-first-run',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
    )
    return stdout
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}

/** Chromium's DOM of the page, whitespace runs as one space. */
const dumpDom = async (file: string) =>
  (await chromium('--dump-dom', `file://${file}`)).replace(/\s+/g, ' ')

async function screenshot(file: string, png: string, width: number, height: number) {
  await chromium(`--screenshot=${png}`, `--window-size=${width},${height}`, `file://${file}`)
  const bytes = readFileSync(png)
  // A PNG of the asked width: signature, then IHDR's width.
  expect(bytes.subarray(1, 4).toString()).toBe('PNG')
  expect(bytes.readUInt32BE(16)).toBe(width)
  expect(bytes.length).toBeGreaterThan(10_000)
}

/** The markup of one extension's section in Chromium's DOM. */
function section(dom: string, id: string): string {
  const match = new RegExp(
    `<section class="extension" id="ext-\\d+" data-extension-id="${id}">([\\s\\S]*?)</section>`,
  ).exec(dom)
  expect(match, `section of ${id}`).not.toBeNull()
  return match?.[1] ?? ''
}

/** The failure-rate chart's bins (the section's first chart): start, state, rate, peak. */
function failureBins(markup: string) {
  const chart = /<svg class="chart" [\s\S]*?<\/svg>/.exec(markup)?.[0] ?? ''
  return [...chart.matchAll(/<g class="bin( peak| unread)?" data-start="([^"]+)"([^>]*)>/g)].map(
    (m) => ({
      start: m[2] ?? '',
      unread: m[1] === ' unread',
      peak: /data-peak="true"/.test(m[3] ?? ''),
      rate: Number(/data-failure-rate="([^"]+)"/.exec(m[3] ?? '')?.[1] ?? NaN),
    }),
  )
}

// Chromium starts take seconds each on a busy 2-core machine: room, not a timed assertion.
describe('the insights report in headless Chromium', { timeout: 180_000 }, () => {
  let tokens: TokenEndpointStandIn
  let graph: SignInLogStandIn
  let dir: string
  let namesFile: string

  beforeAll(async () => {
    tokens = await startTokenEndpoint({ roles: ['AuditLog.Read.All'] })
    graph = await startSignInLogServer({ tokens, signIns: WEEK })
    dir = mkdtempSync(join(tmpdir(), 'insights-browser-'))
    namesFile = join(dir, 'names.json')
    writeFileSync(namesFile, JSON.stringify(SEED_NAMES))
    mkdirSync(ARTIFACTS, { recursive: true })
  })
  afterAll(async () => {
    await graph.close()
    await tokens.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** `npm run insights` against the stand-ins; the HTML file it wrote. */
  async function report(
    name: string,
    ...args: string[]
  ): Promise<{ file: string; stderr: string }> {
    const file = join(dir, `${name}.html`)
    const { code, stderr } = await runCli(
      'insights',
      [...args, '--html', file],
      signedIn(tokens, graph.origin),
    )
    expect(code, stderr).toBe(0)
    return { file, stderr }
  }

  it('leads with an overview, worst extension first, and charts each day of the week', async () => {
    const { file } = await report(
      'week',
      ...['--since', WEEK_SINCE, '--until', WEEK_UNTIL, '--page-size', '1000'],
      ...['--names', namesFile],
    )
    const dom = await dumpDom(file)
    await screenshot(file, join(ARTIFACTS, 'insights-report.png'), 1280, 2600)
    await screenshot(file, join(ARTIFACTS, 'insights-report-phone.png'), 390, 1600)

    expect(dom).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">')
    expect(dom).toContain(`${WEEK_SIGN_INS.toLocaleString('en-US')} sign-ins read`)
    // The overview: one row per extension, the lowest success rate first.
    const overview = /<section id="overview">([\s\S]*?)<\/section>/.exec(dom)?.[1] ?? ''
    const rows = [...overview.matchAll(/<tr class="extension-row" data-extension-id="([^"]+)"/g)]
    const expectedOrder = [...SEED_EXTENSIONS]
      .map((e) => e.id)
      .sort((a, b) => Number.parseFloat(successText(a)) - Number.parseFloat(successText(b)))
    expect(rows.map((m) => m[1])).toEqual(expectedOrder)
    expect(rows[0]?.[1]).toBe(OTP.id)
    const first = /<tr class="extension-row"[\s\S]*?<\/tr>/.exec(overview)?.[0] ?? ''
    expect(first).toContain(OTP.name)
    expect(first).toMatch(new RegExp(`<span class="rate bad">${successText(OTP.id)}</span>`))
    expect(first).toContain('<svg class="spark"')
    expect(first).toContain('Fri 2026-11-06')
    const otp1003002 = callouts().filter(
      (c) => c.customExtensionId === OTP.id && c.errorCode === 1003002,
    ).length
    expect(first).toContain(`1003002&nbsp;×${otp1003002}`)

    // Every extension has a failure-rate chart with the 7 days, calls or not; OTP peaks on Friday.
    for (const e of SEED_EXTENSIONS) {
      const bins = failureBins(section(dom, e.id))
      expect(bins.map((b) => b.start.slice(0, 10))).toEqual([
        '2026-11-02',
        '2026-11-03',
        '2026-11-04',
        '2026-11-05',
        '2026-11-06',
        '2026-11-07',
        '2026-11-08',
      ])
    }
    expect(failureBins(section(dom, OTP.id)).find((b) => b.peak)?.start).toBe(
      '2026-11-06T00:00:00.000Z',
    )
    expect(section(dom, OTP.id)).toContain('failed, % of calls')
    expect(section(dom, OTP.id)).toContain('UTC day')

    // One legend row per code, with its fix and a docs link; the meaning is not repeated per row.
    expect(dom).toMatch(/<tr id="err-1003002">[\s\S]*?href="[^"]*operations\.md#entra-1003002"/)
    expect(dom.split('the API answered a status other than 200')).toHaveLength(2)
    // Correlation IDs of the outage, and the apps.
    const outage = WEEK.filter(
      (r) =>
        r.createdDateTime >= INCIDENTS.otpOutage.from &&
        r.createdDateTime.slice(0, 10) === '2026-11-06' &&
        callouts([r]).some((c) => c.customExtensionId === OTP.id && c.errorCode === 1003002),
    )
    expect(section(dom, OTP.id)).toContain(String(outage[0]?.correlationId))
    expect(section(dom, OTP.id)).toContain('Contoso mobile')

    // Safe: no script, no URL, no user, no unexplained "UNCONFIRMED".
    expect(dom).not.toMatch(/<script|https?:\/\//i)
    expect(dom).not.toMatch(/@contoso-people\.example|Seeded Person/)
    expect(dom).not.toMatch(/UNCONFIRMED/i)
  })

  it('shows a 48-hour range by hour, and the claims chart peaks in the 401 wave', async () => {
    const { file } = await report(
      '48h',
      ...['--since', '2026-11-03T12:00:00Z', '--until', '2026-11-05T12:00:00Z'],
      ...['--page-size', '1000', '--names', namesFile],
    )
    const dom = await dumpDom(file)
    await screenshot(file, join(ARTIFACTS, 'insights-report-48h.png'), 1280, 2600)
    const bins = failureBins(section(dom, CLAIMS.id))
    expect(bins).toHaveLength(48)
    expect(bins[0]?.start).toBe('2026-11-03T12:00:00.000Z')
    const peak = bins.find((b) => b.peak)
    expect(peak?.rate).toBe(1)
    expect(peak !== undefined && peak.start >= INCIDENTS.wave401.from).toBe(true)
    expect(peak !== undefined && peak.start < INCIDENTS.wave401.until).toBe(true)
    expect(bins.filter((b) => b.rate === 1).map((b) => b.start.slice(11, 16))).toEqual([
      '09:00',
      '10:00',
      '11:00',
    ])
    expect(section(dom, CLAIMS.id)).toContain('UTC hour')
  })

  it('says when the read was truncated, which range it covers, and marks the days not read', async () => {
    const { file } = await report(
      'truncated',
      ...['--since', WEEK_SINCE, '--until', WEEK_UNTIL],
      ...['--page-size', '500', '--max-records', '1500', '--names', namesFile],
    )
    const dom = await dumpDom(file)
    await screenshot(file, join(ARTIFACTS, 'insights-report-truncated.png'), 1280, 1800)
    // Graph lists newest first: the 1,500 newest sign-ins were read.
    const oldestRead = [...WEEK]
      .sort((a, b) => b.createdDateTime.localeCompare(a.createdDateTime))
      .slice(0, 1500)
      .at(-1)?.createdDateTime
    const from = `${oldestRead?.slice(0, 10)} ${oldestRead?.slice(11, 16)} UTC`
    const banner = /<div class="banner" id="truncated" role="alert">([\s\S]*?)<\/div>/.exec(dom)
    expect(banner?.[1]).toContain(`only ${from} – 2026-11-09 00:00 UTC is covered`)
    const bins = failureBins(section(dom, OTP.id))
    const readDay = oldestRead?.slice(0, 10) ?? ''
    expect(bins.filter((b) => b.unread).map((b) => b.start.slice(0, 10))).toEqual(
      bins.map((b) => b.start.slice(0, 10)).filter((day) => day < readDay),
    )
    expect(dom).toContain(`* partial days (the range or the read starts or ends inside them)`)
  })
})
