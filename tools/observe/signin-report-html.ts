// A self-contained HTML page of SignInInsights: a table per extension (totals per event type and
// per UTC day) and inline-SVG bars of calls and failures per day. No scripts, no external assets;
// every value is HTML-escaped.
import type { CallCounts, ExtensionInsights, SignInInsights } from './sign-in-insights.js'

export interface ReportMeta {
  readonly since: Date
  readonly until: Date
  readonly generatedAt: Date
  readonly pages: number
  readonly truncated: boolean
}

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`

const statuses = (c: CallCounts) =>
  Object.entries(c.byHttpStatus)
    .map(([status, n]) => `${status}: ${n}`)
    .join(', ')

const codes = (c: CallCounts) =>
  c.byErrorCode.map((e) => `${e.code} ${e.name} (${e.count}): ${e.meaning}`).join('; ')

function row(label: string, c: CallCounts): string {
  const cells = [
    label,
    c.calls,
    c.successes,
    c.failures,
    percent(c.successRate),
    c.attempts,
    c.retries,
    statuses(c),
    codes(c),
  ]
  return `<tr>${cells.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`
}

const HEAD =
  '<tr><th>day / total</th><th>calls</th><th>successes</th><th>failures</th><th>success rate</th><th>attempts</th><th>retries</th><th>by HTTP status</th><th>by error code</th></tr>'

function chart(group: ExtensionInsights): string {
  const bar = 14
  const gap = 10
  const width = 420
  const labelWidth = 90
  const max = Math.max(1, ...group.days.map((d) => d.calls))
  const height = group.days.length * (2 * bar + gap) + gap
  const scale = (n: number) => ((width - labelWidth - 40) * n) / max
  const rows = group.days.map((d, i) => {
    const y = gap + i * (2 * bar + gap)
    return [
      `<text x="0" y="${y + bar}" font-size="11">${escapeHtml(d.day)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${scale(d.calls).toFixed(1)}" height="${bar - 2}" fill="#4c78a8"><title>calls ${escapeHtml(d.calls)}</title></rect>`,
      `<text x="${(labelWidth + scale(d.calls) + 4).toFixed(1)}" y="${y + bar - 3}" font-size="10">${escapeHtml(d.calls)}</text>`,
      `<rect x="${labelWidth}" y="${y + bar}" width="${scale(d.failures).toFixed(1)}" height="${bar - 2}" fill="#e45756"><title>failures ${escapeHtml(d.failures)}</title></rect>`,
      `<text x="${(labelWidth + scale(d.failures) + 4).toFixed(1)}" y="${y + 2 * bar - 3}" font-size="10">${escapeHtml(d.failures)}</text>`,
    ].join('')
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="calls (blue) and failures (red) per day">${rows.join('')}</svg>`
}

function section(group: ExtensionInsights): string {
  return [
    `<section><h2>Extension ${escapeHtml(group.customExtensionId)} — ${escapeHtml(group.eventType)}</h2>`,
    `<table>${HEAD}${row('total', group)}${group.days.map((d) => row(d.day, d)).join('')}</table>`,
    `<p class="legend"><span class="calls">■</span> calls <span class="failures">■</span> failures, per UTC day</p>`,
    chart(group),
    '</section>',
  ].join('\n')
}

export function renderInsightsHtml(insights: SignInInsights, meta: ReportMeta): string {
  const summary = [
    ['range (createdDateTime)', `${meta.since.toISOString()} – ${meta.until.toISOString()}`],
    ['sign-ins read', insights.signIns],
    ['pages', `${meta.pages}${meta.truncated ? ' (truncated: more records were not read)' : ''}`],
    ['extension calls', insights.calls],
    ['sign-ins with several listeners', insights.signInsWithMultipleListeners],
    ['malformed listener entries (skipped)', insights.malformedListeners],
    ['malformed sign-ins (skipped)', insights.malformedSignIns],
  ]
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Custom authentication extensions: sign-in log insights</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
.calls{color:#4c78a8}.failures{color:#e45756}
</style></head><body>
<h1>Custom authentication extensions: sign-in log insights</h1>
<table>${summary.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>
<p>${escapeHtml(insights.latency)}</p>
${insights.extensions.length === 0 ? '<p>No custom extension calls in this range.</p>' : insights.extensions.map(section).join('\n')}
<p><small>Generated ${escapeHtml(meta.generatedAt.toISOString())}.</small></p>
</body></html>
`
}
