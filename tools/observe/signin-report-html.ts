// A self-contained HTML page of SignInInsights, for an identity engineer's first look: an overview
// (one row per extension, worst first), then per extension the failure rate over time stacked by
// reason, calls over time, the periods with their error codes and correlation IDs, and the client
// apps; one legend of the error codes with their fix. No script, no external asset, phone-friendly;
// every value is HTML-escaped (html-template.ts).
import {
  describeErrorCode,
  docsAnchor,
  FAILURE_REASONS,
  FAILURE_REASON_LABELS,
  fixFor,
} from './error-codes.js'
import {
  escapeHtml,
  formatCount,
  formatInstant,
  formatPercent,
  formatPeriod,
  html,
  Html,
} from './html-template.js'
import {
  callsChart,
  failureRateChart,
  REASON_COLOURS,
  sparkline,
  type BinState,
} from './report-charts.js'
import type { BinCounts, BinUnit, CodeCount } from './sign-in-bins.js'
import type { ExtensionInsights, SignInInsights } from './sign-in-insights.js'

export { escapeHtml }

export interface ReportMeta {
  readonly since: Date
  readonly until: Date
  readonly generatedAt: Date
  readonly pages: number
  readonly truncated: boolean
  /** Extension display names by customExtensionId (compared without regard to case). */
  readonly names?: ReadonlyMap<string, string> | undefined
  /** Where docs/operations.md is, relative to the report (default "docs/operations.md"). */
  readonly docsHref?: string | undefined
}

interface View {
  readonly insights: SignInInsights
  readonly meta: ReportMeta
  readonly unit: BinUnit
  readonly docs: string
  /** Where a truncated read starts (ms); undefined when the whole range was read. */
  readonly readFrom: number | undefined
}

/** Worst first: the lowest success rate, then the most failures. */
const worstFirst = (a: ExtensionInsights, b: ExtensionInsights): number =>
  a.successRate - b.successRate ||
  b.failures - a.failures ||
  (a.customExtensionId < b.customExtensionId ? -1 : 1)

export function renderInsightsHtml(insights: SignInInsights, meta: ReportMeta): string {
  const readFrom =
    meta.truncated && insights.range.earliestSignIn !== null
      ? Date.parse(insights.range.earliestSignIn)
      : meta.truncated
        ? meta.until.getTime()
        : undefined
  const view: View = {
    insights,
    meta,
    unit: insights.range.bin,
    docs: meta.docsHref ?? 'docs/operations.md',
    readFrom,
  }
  const ordered = [...insights.extensions].sort(worstFirst)
  const page = html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Custom authentication extensions: sign-in log insights</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header>
          <h1>Custom authentication extensions: sign-in log insights</h1>
          <p class="sub">
            ${formatInstant(meta.since.toISOString())} – ${formatInstant(meta.until.toISOString())}
            · ${view.unit === 'day' ? 'daily' : 'hourly'} periods · ${formatCount(insights.signIns)}
            sign-ins read · ${formatCount(insights.calls)} extension calls
          </p>
        </header>
        ${banner(view)}
        <section id="overview">
          <h2>Overview</h2>
          ${ordered.length === 0 ? html`<p>No custom extension calls in this range.</p>` : overview(view, ordered)}
        </section>
        ${ordered.map((e, i) => extensionSection(view, e, i))} ${errorLegend(view)} ${about(view)}
        <footer>
          <p class="muted">
            Generated ${formatInstant(meta.generatedAt.toISOString())} by
            <code>npm run insights</code>.
          </p>
        </footer>
      </body>
    </html> `
  return page.markup
}

function banner(view: View): Html {
  if (!view.meta.truncated) return html``
  const until = view.meta.until.toISOString()
  const from = view.readFrom === undefined ? until : new Date(view.readFrom).toISOString()
  return html`<div class="banner" id="truncated" role="alert">
    <strong
      >Incomplete read: only ${formatInstant(from)} – ${formatInstant(until)} is covered.</strong
    >
    The read stopped at --max-pages or --max-records (${formatCount(view.insights.signIns)}
    sign-ins, ${formatCount(view.meta.pages)} pages). Graph lists the newest sign-ins first, so the
    range's start (${formatInstant(view.meta.since.toISOString())}) was not reached: earlier periods
    are marked <span class="unread-key">not read</span> (not zero) and the period the read starts in
    is partial (*). Raise --max-records / --max-pages or shorten --since for the whole range.
  </div>`
}

function binStates(view: View, bins: readonly BinCounts[]): BinState[] {
  return bins.map((b) => {
    const start = Date.parse(b.start)
    const end = Date.parse(b.end)
    if (view.readFrom !== undefined && end <= view.readFrom) return 'unread'
    if (b.partial || (view.readFrom !== undefined && start < view.readFrom)) return 'partial'
    return 'full'
  })
}

function displayName(view: View, e: ExtensionInsights): string | undefined {
  const names = view.meta.names
  if (names === undefined) return undefined
  const wanted = e.customExtensionId.toLowerCase()
  for (const [id, name] of names) if (id.toLowerCase() === wanted) return name
  return undefined
}

const rateClass = (rate: number): string => (rate >= 0.995 ? 'good' : rate >= 0.95 ? 'warn' : 'bad')

const codeCell = (c: CodeCount): Html =>
  html`<a class="code" href="#err-${c.code}" title="${describeErrorCode(c.code).name}"
    >${c.code}&nbsp;×${formatCount(c.count)}</a
  >`

function overview(view: View, ordered: readonly ExtensionInsights[]): Html {
  const rows = ordered.map((e, i) => {
    const name = displayName(view, e)
    const states = binStates(view, e.bins)
    const worst = e.worstPeriod
    const top = e.byErrorCode[0]
    return html`<tr
      class="extension-row"
      data-extension-id="${e.customExtensionId}"
      data-event-type="${e.eventType}"
      data-success-rate="${e.successRate}"
    >
      <td class="name">
        <a href="#ext-${i}">${name ?? 'unnamed extension'}</a>
        <div class="muted">
          ${e.eventType} ·
          <code title="${e.customExtensionId}">${e.customExtensionId.slice(0, 8)}…</code>
        </div>
      </td>
      <td class="num">${formatCount(e.calls)}</td>
      <td class="num">
        <span class="rate ${rateClass(e.successRate)}"
          >${formatPercent(e.successRate, e.failures)}</span
        >
      </td>
      <td class="spark-cell">${sparkline(e.bins, states)}</td>
      <td>
        ${
          worst === null
            ? html`<span class="muted">none</span>`
            : html`${formatPeriod(worst.start, view.unit)}
                <div class="muted">
                  ${formatCount(worst.failures)} of ${formatCount(worst.calls)} failed
                  (${formatPercent(worst.failureRate)})
                </div>`
        }
      </td>
      <td>
        ${
          top === undefined
            ? html`<span class="muted">none</span>`
            : html`${codeCell(top)}
                <div class="muted">${describeErrorCode(top.code).name}</div>`
        }
      </td>
    </tr>`
  })
  return html`<div class="scroll">
      <table class="overview">
        <thead>
          <tr>
            <th>Extension</th>
            <th class="num">Calls</th>
            <th class="num">Success</th>
            <th>Failure rate per ${view.unit}</th>
            <th>Worst ${view.unit}</th>
            <th>Top error</th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
    </div>
    <p class="muted">
      Worst first (lowest success rate). Success: <span class="rate good">≥ 99.5%</span>
      <span class="rate warn">≥ 95%</span> <span class="rate bad">&lt; 95%</span>. A call succeeded
      when its last attempt got HTTP 200 and no error code. Sparkline: failure rate per ${view.unit}
      on a 0–100% scale.
    </p>`
}

function extensionSection(view: View, e: ExtensionInsights, i: number): Html {
  const name = displayName(view, e)
  const states = binStates(view, e.bins)
  const statuses = Object.entries(e.byHttpStatus)
    .map(([status, n]) => `${status}: ${formatCount(n)}`)
    .join(', ')
  return html`<section class="extension" id="ext-${i}" data-extension-id="${e.customExtensionId}">
    <h2>${name ?? 'Unnamed extension'} <span class="event">${e.eventType}</span></h2>
    <p class="facts">
      <code>${e.customExtensionId}</code> · ${formatCount(e.calls)} calls ·
      <span class="rate ${rateClass(e.successRate)}"
        >${formatPercent(e.successRate, e.failures)}</span
      >
      succeeded · ${formatCount(e.attempts)} attempts, ${formatCount(e.retries)} retries · HTTP
      status of the last attempt: ${statuses}
    </p>
    <figure>
      <figcaption>
        Failed calls per ${view.unit}, % of that ${view.unit}'s calls, by reason (UTC)
      </figcaption>
      <div class="scroll">${failureRateChart(e.bins, states, view.unit, `fr${i}`)}</div>
      ${reasonKey(view)}
    </figure>
    <figure>
      <figcaption>
        Calls per ${view.unit} (<span class="swatch" style="background:#4c78a8"></span> all,
        <span class="swatch" style="background:#d62728"></span> failed)
      </figcaption>
      <div class="scroll">${callsChart(e.bins, states, view.unit, `c${i}`)}</div>
    </figure>
    ${partialNote(view, e.bins, states)}
    <details>
      <summary>
        Per ${view.unit}: calls, failures by reason, error codes and correlation IDs
      </summary>
      ${periodTable(view, e, states)}
    </details>
    <h3>By client app</h3>
    ${appTable(e)}
  </section>`
}

function reasonKey(view: View): Html {
  return html`<p class="key">
    ${FAILURE_REASONS.map((r) => html`<span><span class="swatch" style="background:${REASON_COLOURS[r]}"></span>${FAILURE_REASON_LABELS[r]}</span> `)}<span
      ><span class="swatch unread-swatch"></span>not read</span
    >
    <a href="${view.docs}#failure-reasons">what the reasons mean</a>
  </p>`
}

function partialNote(view: View, bins: readonly BinCounts[], states: readonly BinState[]): Html {
  const partial = bins.filter((_, i) => states[i] === 'partial')
  if (partial.length === 0) return html``
  return html`<p class="muted">
    * partial ${view.unit}s (the range or the read starts or ends inside them):
    ${partial.map((b) => formatPeriod(b.start, view.unit)).join(', ')}.
  </p>`
}

function periodTable(view: View, e: ExtensionInsights, states: readonly BinState[]): Html {
  const rows = e.bins.map((b, i) => {
    const state = states[i] ?? 'full'
    const period = `${formatPeriod(b.start, view.unit)}${state === 'partial' ? ' *' : ''}`
    if (state === 'unread')
      return html`<tr class="unread">
        <td>${period}</td>
        <td colspan="${5 + FAILURE_REASONS.length}">
          not read (the read stopped before this ${view.unit})
        </td>
      </tr>`
    return html`<tr${b.calls === 0 ? html` class="empty"` : ''}><td>${period}</td><td class="num">${formatCount(b.calls)}</td><td class="num">${formatCount(b.failures)}</td><td class="num">${b.calls === 0 ? '–' : formatPercent(b.failureRate)}</td>${FAILURE_REASONS.map((r) => html`<td class="num">${b.byReason[r] === 0 ? '' : formatCount(b.byReason[r])}</td>`)}<td>${b.byErrorCode.map((c) => html`${codeCell(c)} `)}</td><td class="ids">${b.samples.map((s) => html`<div><span class="muted">${s.code}:</span>${s.correlationIds.map((id) => html`<code>${id}</code>`)}</div>`)}</td></tr>`
  })
  return html`<div class="scroll">
    <table class="periods">
      <thead>
        <tr>
          <th>${view.unit === 'day' ? 'UTC day' : 'UTC hour'}</th>
          <th class="num">Calls</th>
          <th class="num">Failed</th>
          <th class="num">Failure rate</th>
          ${FAILURE_REASONS.map((r) => html`<th class="num">${FAILURE_REASON_LABELS[r]}</th>`)}
          <th>Error codes</th>
          <th>Correlation IDs (first 3 per error)</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`
}

function appTable(e: ExtensionInsights): Html {
  const rows = e.byApp.map(
    (a) =>
      html`<tr>
        <td>
          ${a.appDisplayName === '' ? a.appId : a.appDisplayName}
          <div class="muted"><code title="${a.appId}">${a.appId.slice(0, 8)}…</code></div>
        </td>
        <td class="num">${formatCount(a.calls)}</td>
        <td class="num">${formatCount(a.failures)}</td>
        <td class="num">
          <span class="rate ${rateClass(a.successRate)}"
            >${formatPercent(a.successRate, a.failures)}</span
          >
        </td>
        <td>${a.byErrorCode.slice(0, 3).map((c) => html`${codeCell(c)} `)}</td>
      </tr>`,
  )
  return html`<div class="scroll">
    <table class="apps">
      <thead>
        <tr>
          <th>App</th>
          <th class="num">Calls</th>
          <th class="num">Failed</th>
          <th class="num">Success</th>
          <th>Top errors</th>
        </tr>
      </thead>
      <tbody>
        ${rows}
      </tbody>
    </table>
  </div>`
}

function errorLegend(view: View): Html {
  const counts = new Map<number, number>()
  for (const e of view.insights.extensions)
    for (const c of e.byErrorCode) counts.set(c.code, (counts.get(c.code) ?? 0) + c.count)
  if (counts.size === 0) return html``
  const rows = [...counts]
    .sort(([a, m], [b, n]) => n - m || a - b)
    .map(([code, count]) => {
      const d = describeErrorCode(code)
      return html`<tr id="err-${code}">
        <td><code>${code}</code></td>
        <td class="num">${formatCount(count)}</td>
        <td>
          ${d.name}
          <div class="muted">${d.meaning}</div>
        </td>
        <td>${fixFor(code)}</td>
        <td><a href="${view.docs}#${docsAnchor(code)}">docs</a></td>
      </tr>`
    })
  return html`<section id="errors">
    <h2>Error codes</h2>
    <div class="scroll">
      <table class="legend">
        <thead>
          <tr>
            <th>Code</th>
            <th class="num">Calls</th>
            <th>Name and meaning</th>
            <th>Usual fix with this endpoint</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
    </div>
    <p class="muted">
      Entra's codes from the sign-in log (the last attempt). Look a failure up in the endpoint's log
      by its correlation ID: every log line and span carries it.
    </p>
  </section>`
}

function about(view: View): Html {
  const { insights, meta } = view
  const rows: [string, string][] = [
    ['range (createdDateTime)', `${meta.since.toISOString()} – ${meta.until.toISOString()}`],
    ['sign-ins read', formatCount(insights.signIns)],
    ['pages', `${meta.pages}${meta.truncated ? ' (truncated: more records were not read)' : ''}`],
    ['extension calls', formatCount(insights.calls)],
    ['sign-ins with several listeners', formatCount(insights.signInsWithMultipleListeners)],
    ['malformed listener entries (skipped)', formatCount(insights.malformedListeners)],
    ['malformed sign-ins (skipped)', formatCount(insights.malformedSignIns)],
  ]
  return html`<section id="about">
    <h2>About this read</h2>
    <div class="scroll">
      <table class="about">
        ${rows.map(
          ([k, v]) =>
            html`<tr>
              <th>${k}</th>
              <td>${v}</td>
            </tr>`,
        )}
      </table>
    </div>
    <p>${insights.latency}</p>
    <p class="muted">
      Each applied listener is one call. Periods are UTC ${view.unit}s; ranges up to 48 hours are
      shown by hour. Extension IDs, app names and correlation IDs come from the sign-in log; no user
      is shown.
    </p>
  </section>`
}

const STYLE = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d0d7de;--bg2:#f6f8fa}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1rem;max-width:1100px;color:var(--fg);line-height:1.4;font-size:15px}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .4rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1rem;margin:1rem 0 .3rem}
.sub,.muted{color:var(--muted)}.muted{font-size:.85em}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;word-break:break-all}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;margin:.3rem 0;min-width:100%}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
thead th{background:var(--bg2);white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.overview td.name{min-width:14rem}.overview a{font-weight:600}
.rate{display:inline-block;padding:.05rem .4rem;border-radius:.3rem;font-weight:600}
.rate.good{background:#dafbe1;color:#116329}.rate.warn{background:#fff8c5;color:#7d4e00}.rate.bad{background:#ffebe9;color:#a40e26}
.banner{background:#fff8c5;border:2px solid #d4a72c;border-radius:.4rem;padding:.7rem .9rem;margin:1rem 0}
.unread-key{background:#eee;padding:0 .3rem}
figure{margin:.6rem 0}figcaption{font-size:.9rem;font-weight:600;margin-bottom:.2rem}
svg.chart{width:100%;min-width:520px;height:auto;display:block}
svg.chart text{font-size:13px;fill:var(--fg)}svg.chart text.muted{fill:var(--muted);font-size:12px}
svg.chart .grid{stroke:#e6e6e6}svg.chart .base{stroke:#888}svg.chart .axis-title{font-size:12px;fill:var(--muted)}
svg.chart .partial{fill:none;stroke:#999;stroke-dasharray:3 3}svg.chart .peak-label{font-weight:600}svg.chart .note{fill:var(--muted)}
.key{font-size:.85rem;margin:.2rem 0}.key>span{margin-right:.6rem;white-space:nowrap}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;vertical-align:-1px;margin-right:.25rem}
.unread-swatch{background:repeating-linear-gradient(45deg,#f3f3f3 0 3px,#c8c8c8 3px 5px)}
.event{font-weight:400;color:var(--muted);font-size:.9rem}
.facts{font-size:.9rem}
a.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;white-space:nowrap}
tr.empty td{color:var(--muted)}tr.unread td{background:#f3f3f3;color:var(--muted)}
td.ids code{font-size:.75rem;display:block;white-space:nowrap;word-break:normal}
table.periods td:first-child{white-space:nowrap}
details{margin:.5rem 0}summary{cursor:pointer;font-weight:600;font-size:.9rem}
@media (max-width:600px){body{padding:.6rem;font-size:14px}th,td{padding:.3rem .35rem}.overview td.name{min-width:10rem}}
`
