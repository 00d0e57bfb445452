// The report's inline-SVG charts: failure rate per period stacked by reason, calls per period, and
// the overview's sparkline. Scalable (viewBox, width 100% in CSS), no script, no external asset;
// every text goes through the escaping template.
import { FAILURE_REASONS, FAILURE_REASON_LABELS, type FailureReason } from './error-codes.js'
import { formatCount, formatPercent, formatPeriod, html, type Html } from './html-template.js'
import type { BinCounts, BinUnit } from './sign-in-bins.js'

/** How much of a period was read: all, part (range or read ends inside), or nothing. */
export type BinState = 'full' | 'partial' | 'unread'

export const REASON_COLOURS: Readonly<Record<FailureReason, string>> = {
  timeout: '#e8710a',
  http4xx: '#8e44ad',
  http5xx: '#d62728',
  connection: '#6d4c41',
  other: '#9e9e9e',
}

const W = 720
const LEFT = 66
const RIGHT = 12
const TOP = 34
const BOTTOM = 46
const PLOT_W = W - LEFT - RIGHT

/** The failure-rate axis: its top (%) and the step between ticks. */
const RATE_SCALES: readonly (readonly [number, number])[] = [
  [1, 0.2],
  [2, 0.5],
  [5, 1],
  [10, 2],
  [20, 5],
  [40, 10],
  [60, 20],
  [100, 20],
]

/** The bin with the highest failure rate (then the most failures, then the earliest), if any failed. */
export function peakBin(bins: readonly BinCounts[]): BinCounts | undefined {
  let peak: BinCounts | undefined
  for (const b of bins) {
    if (b.failures === 0) continue
    if (
      peak === undefined ||
      b.failureRate > peak.failureRate ||
      (b.failureRate === peak.failureRate && b.failures > peak.failures)
    )
      peak = b
  }
  return peak
}

/** Failed calls as a % of the period's calls, stacked by reason, with axes and units. */
export function failureRateChart(
  bins: readonly BinCounts[],
  states: readonly BinState[],
  unit: BinUnit,
  id: string,
): Html {
  const H = 260
  const plotH = H - TOP - BOTTOM
  const peak = peakBin(bins)
  const [max, tickStep] = RATE_SCALES.find(([m]) => m >= (peak?.failureRate ?? 0) * 100) ?? [
    100, 20,
  ]
  const y = (pct: number) => TOP + plotH - (pct / max) * plotH
  const ticks = Array.from({ length: Math.round(max / tickStep) + 1 }, (_, i) => i * tickStep)
  const step = PLOT_W / Math.max(1, bins.length)
  const barW = Math.max(1, step * 0.78)
  const bars = bins.map((b, i) => {
    const x = LEFT + i * step + (step - barW) / 2
    const period = formatPeriod(b.start, unit)
    const state = states[i] ?? 'full'
    if (state === 'unread')
      return html`<g class="bin unread" data-start="${b.start}"
        ><title>${period}: not read</title
        ><rect
          x="${fx(x)}"
          y="${TOP}"
          width="${fx(barW)}"
          height="${plotH}"
          fill="url(#${id}-hatch)"
      /></g>`
    const reasons = b.failures === 0 ? [] : stack(b, (pct) => (pct / max) * plotH)
    let top = TOP + plotH
    const segments = reasons.map(([reason, h]) => {
      top -= h
      return html`<rect
        class="r-${reason}"
        x="${fx(x)}"
        y="${fx(top)}"
        width="${fx(barW)}"
        height="${fx(h)}"
        fill="${REASON_COLOURS[reason]}"
      />`
    })
    const title =
      b.calls === 0
        ? `${period}: no calls`
        : `${period}: ${b.failures} of ${b.calls} calls failed (${formatPercent(b.failureRate)})${reasonText(b)}`
    return html`<g
      class="bin${b === peak ? ' peak' : ''}"
      data-start="${b.start}"
      data-calls="${b.calls}"
      data-failures="${b.failures}"
      data-failure-rate="${b.failureRate}"
      ${b === peak ? html` data-peak="true"` : ''}
      ><title>${title}${state === 'partial' ? ' (partial period)' : ''}</title
      >${state === 'partial' ? html`<rect x="${fx(x)}" y="${TOP}" width="${fx(barW)}" height="${plotH}" class="partial" />` : ''}${b.calls === 0 ? html`<rect x="${fx(x)}" y="${TOP + plotH - 1}" width="${fx(barW)}" height="1" fill="#bbb" />` : ''}${segments}</g
    >`
  })
  const peakLabel =
    peak === undefined
      ? html`<text x="${LEFT + PLOT_W / 2}" y="${TOP + plotH / 2}" text-anchor="middle" class="note"
          >no failed calls</text
        >`
      : peakText(peak, bins.indexOf(peak), step, y(peak.failureRate * 100), unit)
  return html`<svg
    class="chart"
    viewBox="0 0 ${W} ${H}"
    role="img"
    aria-label="${`failure rate per ${unit}, % of calls, by reason`}"
  >
    ${hatch(id)}${yAxis(ticks, y, (v) => `${trimNumber(v)}%`, 'failed, % of calls', plotH)}${xAxis(bins, states, unit, step, H)}${bars}${peakLabel}
  </svg>`
}

/** Calls per period (bars), with a count axis. */
export function callsChart(
  bins: readonly BinCounts[],
  states: readonly BinState[],
  unit: BinUnit,
  id: string,
): Html {
  const H = 150
  const plotH = H - TOP - BOTTOM
  const max = niceMax(Math.max(0, ...bins.map((b) => b.calls)))
  const y = (n: number) => TOP + plotH - (n / max) * plotH
  const step = PLOT_W / Math.max(1, bins.length)
  const barW = Math.max(1, step * 0.78)
  const bars = bins.map((b, i) => {
    const x = LEFT + i * step + (step - barW) / 2
    const period = formatPeriod(b.start, unit)
    if (states[i] === 'unread')
      return html`<g class="bin unread"
        ><title>${period}: not read</title
        ><rect
          x="${fx(x)}"
          y="${TOP}"
          width="${fx(barW)}"
          height="${plotH}"
          fill="url(#${id}-hatch)"
      /></g>`
    const h = (b.calls / max) * plotH
    return html`<g class="bin" data-start="${b.start}" data-calls="${b.calls}"
      ><title>${period}: ${formatCount(b.calls)} calls, ${formatCount(b.failures)} failed</title
      ><rect
        x="${fx(x)}"
        y="${fx(TOP + plotH - h)}"
        width="${fx(barW)}"
        height="${fx(h)}"
        fill="#4c78a8" /><rect
        x="${fx(x)}"
        y="${fx(TOP + plotH - (b.failures / max) * plotH)}"
        width="${fx(barW)}"
        height="${fx((b.failures / max) * plotH)}"
        fill="#d62728"
    /></g>`
  })
  const ticks = [0, max / 2, max]
  return html`<svg
    class="chart calls"
    viewBox="0 0 ${W} ${H}"
    role="img"
    aria-label="${`calls per ${unit}`}"
  >
    ${hatch(id)}${yAxis(ticks, y, (v) => formatCount(v), 'calls', plotH)}${xAxis(bins, states, unit, step, H)}${bars}
  </svg>`
}

/** A 120×28 strip: failure rate per period on a 0–100% scale (red), periods not read in grey. */
export function sparkline(bins: readonly BinCounts[], states: readonly BinState[]): Html {
  const w = 120
  const h = 28
  const step = w / Math.max(1, bins.length)
  const bars = bins.map((b, i) => {
    const x = fx(i * step)
    const bw = fx(Math.max(0.8, step - (step > 3 ? 1 : 0)))
    if (states[i] === 'unread')
      return html`<rect x="${x}" y="0" width="${bw}" height="${h}" fill="#e0e0e0" />`
    if (b.failures === 0)
      return html`<rect x="${x}" y="${h - 1}" width="${bw}" height="1" fill="#9e9e9e" />`
    const bh = Math.max(2, b.failureRate * (h - 1))
    return html`<rect x="${x}" y="${fx(h - bh)}" width="${bw}" height="${fx(bh)}" fill="#d62728" />`
  })
  const peak = peakBin(bins)
  const label = `failure rate per period (0–100%), peak ${peak === undefined ? 'none' : formatPercent(peak.failureRate)}`
  return html`<svg
    class="spark"
    viewBox="0 0 ${w} ${h}"
    width="${w}"
    height="${h}"
    role="img"
    aria-label="${label}"
  >
    <title>${label}</title>
    ${bars}
  </svg>`
}

function stack(b: BinCounts, scale: (pct: number) => number): [FailureReason, number][] {
  return FAILURE_REASONS.filter((r) => b.byReason[r] > 0).map((r) => [
    r,
    Math.max(0.5, scale((b.byReason[r] / b.calls) * 100)),
  ])
}

const reasonText = (b: BinCounts): string =>
  FAILURE_REASONS.filter((r) => b.byReason[r] > 0)
    .map((r) => `; ${FAILURE_REASON_LABELS[r]} ${b.byReason[r]}`)
    .join('')

function peakText(peak: BinCounts, i: number, step: number, top: number, unit: BinUnit): Html {
  const x = Math.min(W - RIGHT - 4, Math.max(LEFT + 4, LEFT + (i + 0.5) * step))
  const anchor = x > W - 160 ? 'end' : x < LEFT + 100 ? 'start' : 'middle'
  return html`<text
    class="peak-label"
    x="${fx(x)}"
    y="${fx(Math.max(12, top - 6))}"
    text-anchor="${anchor}"
    >peak ${formatPercent(peak.failureRate)} (${peak.failures}/${peak.calls})
    ${formatPeriod(peak.start, unit)}</text
  >`
}

function yAxis(
  ticks: readonly number[],
  y: (v: number) => number,
  label: (v: number) => string,
  title: string,
  plotH: number,
): Html {
  return html`<g class="axis y"
    >${ticks.map((t) => html`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${fx(y(t))}" y2="${fx(y(t))}" class="${t === 0 ? 'base' : 'grid'}" /><text x="${LEFT - 6}" y="${fx(y(t) + 4)}" text-anchor="end">${label(t)}</text>`)}<text
      class="axis-title"
      transform="translate(14 ${fx(TOP + plotH / 2)}) rotate(-90)"
      text-anchor="middle"
      >${title}</text
    ></g
  >`
}

function xAxis(
  bins: readonly BinCounts[],
  states: readonly BinState[],
  unit: BinUnit,
  step: number,
  H: number,
): Html {
  const every = unit === 'day' ? Math.max(1, Math.ceil(bins.length / 10)) : hourStride(bins.length)
  const base = H - BOTTOM
  const labelled = (b: BinCounts, i: number) =>
    unit === 'hour' ? Number(b.start.slice(11, 13)) % every === 0 : i % every === 0
  const firstLabel = bins.findIndex(labelled)
  const labels = bins.map((b, i) => {
    const hour = Number(b.start.slice(11, 13))
    if (!labelled(b, i)) return ''
    const x = fx(LEFT + (i + 0.5) * step)
    const mark = states[i] === 'partial' ? '*' : ''
    const [first, second] =
      unit === 'day'
        ? [`${formatPeriod(b.start, 'day').slice(0, 3)}${mark}`, b.start.slice(5, 10)]
        : [
            `${b.start.slice(11, 16)}${mark}`,
            hour === 0 || i === firstLabel ? b.start.slice(5, 10) : '',
          ]
    return html`<line x1="${x}" x2="${x}" y1="${base}" y2="${base + 4}" class="base" /><text
        x="${x}"
        y="${base + 16}"
        text-anchor="middle"
        >${first}</text
      >${second === '' ? '' : html`<text x="${x}" y="${base + 29}" text-anchor="middle" class="muted">${second}</text>`}`
  })
  return html`<g class="axis x"
    >${labels}<text class="axis-title" x="${W - RIGHT}" y="${H - 3}" text-anchor="end"
      >${unit === 'day' ? 'UTC day' : 'UTC hour'}</text
    ></g
  >`
}

const hourStride = (n: number): number => (n <= 12 ? 1 : n <= 24 ? 3 : 6)

function hatch(id: string): Html {
  return html`<defs
    ><pattern
      id="${id}-hatch"
      width="6"
      height="6"
      patternUnits="userSpaceOnUse"
      patternTransform="rotate(45)"
      ><rect width="6" height="6" fill="#f3f3f3" /><line
        x1="0"
        y1="0"
        x2="0"
        y2="6"
        stroke="#c8c8c8"
        stroke-width="2" /></pattern
  ></defs>`
}

/** The smallest 1, 2 or 5 × 10^k at or above n (at least 1). */
function niceMax(n: number): number {
  let scale = 1
  for (;;) {
    for (const m of [1, 2, 5]) if (m * scale >= n) return m * scale
    scale *= 10
  }
}

const fx = (n: number): string => n.toFixed(1).replace(/\.0$/, '')
const trimNumber = (n: number): string => String(Math.round(n * 100) / 100)
