// A self-contained HTML page of SignInInsights, for an identity engineer's first look: an overview
// (one row per extension, worst first), then per extension the failure rate over time stacked by
// reason, calls over time, the periods with their error codes and correlation IDs, and the client
// apps; one legend of the error codes with their fix. No script, no external asset, phone-friendly;
// every value is HTML-escaped (html-template.ts).
import { describeErrorCode, FAILURE_REASONS, FAILURE_REASON_LABELS } from './error-codes.js'
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
import { REPORT_STYLE } from './report-style.js'
import { about, appTable, codeCell, errorLegend, periodTable, rateClass } from './report-tables.js'
import type { BinCounts, BinUnit } from './sign-in-bins.js'
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
          ${new Html(REPORT_STYLE)}
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
        ${ordered.map((e, i) => extensionSection(view, e, i))}
        ${errorLegend(view.insights.extensions, view.docs)} ${about(view.insights, view.meta)}
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
    The read stopped at <code>--max-pages</code> or
    <code>--max-records</code> (${formatCount(view.insights.signIns)} sign-ins,
    ${formatCount(view.meta.pages)} pages). Graph lists the newest sign-ins first, so the range's
    start (${formatInstant(view.meta.since.toISOString())}) was not reached: earlier periods are
    marked <span class="unread-key">not read</span> (not zero) and the period the read starts in is
    partial (*). Raise <code>--max-records</code> / <code>--max-pages</code> or shorten
    <code>--since</code> for the whole range.
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
      ${periodTable(e, states, view.unit)}
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
