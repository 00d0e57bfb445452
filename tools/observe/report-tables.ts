// The report's tables: per period (calls, failures by reason, error codes, correlation IDs), per
// client app, the error legend (meaning, fix, docs link) and what was read. Every value escaped.
import {
  describeErrorCode,
  docsAnchor,
  FAILURE_REASONS,
  FAILURE_REASON_LABELS,
  fixFor,
} from './error-codes.js'
import { formatCount, formatPercent, formatPeriod, html, type Html } from './html-template.js'
import type { BinState } from './report-charts.js'
import type { BinUnit, CodeCount } from './sign-in-bins.js'
import type { ExtensionInsights, SignInInsights } from './sign-in-insights.js'
import type { ReportMeta } from './signin-report-html.js'

export const rateClass = (rate: number): string =>
  rate >= 0.995 ? 'good' : rate >= 0.95 ? 'warn' : 'bad'

export const codeCell = (c: CodeCount): Html =>
  html`<a class="code" href="#err-${c.code}" title="${describeErrorCode(c.code).name}"
    >${c.code}&nbsp;×${formatCount(c.count)}</a
  >`

export function periodTable(
  e: ExtensionInsights,
  states: readonly BinState[],
  unit: BinUnit,
): Html {
  const rows = e.bins.map((b, i) => {
    const state = states[i] ?? 'full'
    const period = `${formatPeriod(b.start, unit)}${state === 'partial' ? ' *' : ''}`
    if (state === 'unread')
      return html`<tr class="unread">
        <td>${period}</td>
        <td colspan="${5 + FAILURE_REASONS.length}">
          not read (the read stopped before this ${unit})
        </td>
      </tr>`
    return html`<tr${b.calls === 0 ? html` class="empty"` : ''}><td>${period}</td><td class="num">${formatCount(b.calls)}</td><td class="num">${formatCount(b.failures)}</td><td class="num">${b.calls === 0 ? '–' : formatPercent(b.failureRate)}</td>${FAILURE_REASONS.map((r) => html`<td class="num">${b.byReason[r] === 0 ? '' : formatCount(b.byReason[r])}</td>`)}<td>${b.byErrorCode.map((c) => html`${codeCell(c)} `)}</td><td class="ids">${b.samples.map((s) => html`<div><span class="muted">${s.code}:</span>${s.correlationIds.map((id) => html`<code>${id}</code>`)}</div>`)}</td></tr>`
  })
  return html`<div class="scroll">
    <table class="periods">
      <thead>
        <tr>
          <th>${unit === 'day' ? 'UTC day' : 'UTC hour'}</th>
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

export function appTable(e: ExtensionInsights): Html {
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

export function errorLegend(extensions: readonly ExtensionInsights[], docs: string): Html {
  const counts = new Map<number, number>()
  for (const e of extensions)
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
        <td><a href="${docs}#${docsAnchor(code)}">docs</a></td>
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

export function about(insights: SignInInsights, meta: ReportMeta): Html {
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
      Each applied listener is one call. Periods are UTC ${insights.range.bin}s; ranges up to 48
      hours are shown by hour. Extension IDs, app names and correlation IDs come from the sign-in
      log; no user is shown.
    </p>
  </section>`
}
