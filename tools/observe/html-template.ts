// HTML built by a tagged template that escapes every interpolated value unless it is already
// markup made by the same template: a value reaches the page escaped unless code says otherwise.

export class Html {
  readonly markup: string
  constructor(markup: string) {
    this.markup = markup
  }
  toString(): string {
    return this.markup
  }
}

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/** Interpolations are escaped; Html values and arrays of them are inserted as they are. */
export function html(strings: TemplateStringsArray, ...values: readonly unknown[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += toMarkup(value) + (strings[i + 1] ?? '')
  })
  return new Html(out)
}

function toMarkup(value: unknown): string {
  if (value instanceof Html) return value.markup
  if (Array.isArray(value)) return value.map(toMarkup).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(value)
}

/** 1234567 → "1,234,567" (no locale data involved). */
export const formatCount = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** A rate 0..1 as a percentage with one decimal; never "100.0%" while something failed. */
export function formatPercent(rate: number, failures = 0): string {
  const text = (rate * 100).toFixed(1)
  if (text === '100.0' && failures > 0) return '>99.9%'
  if (text === '0.0' && rate > 0) return '<0.1%'
  return `${text}%`
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']

/** A bin's start: "Thu 2026-11-05" for a day, "2026-11-04 10:00" for an hour (UTC). */
export function formatPeriod(startIso: string, unit: 'hour' | 'day'): string {
  const at = new Date(startIso)
  const day = startIso.slice(0, 10)
  return unit === 'day'
    ? `${DAYS[at.getUTCDay()] ?? ''} ${day}`
    : `${day} ${startIso.slice(11, 16)}`
}

/** "2026-11-04 10:17 UTC" */
export const formatInstant = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`
