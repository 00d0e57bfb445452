// OTP e-mail templates: one JSON file per language ({ subject, text, html }) with placeholders
// {{code}}, {{recipient}} (the address's part before "@"), {{appName}} and {{expiryMinutes}}.
// Compiled at start-up: an unknown placeholder, or a text or HTML body without {{code}}, is a
// start-up error naming the file and the field. In HTML every value is escaped.
import * as z from 'zod'

export const PLACEHOLDERS = ['code', 'recipient', 'appName', 'expiryMinutes'] as const
export type Placeholder = (typeof PLACEHOLDERS)[number]
export type TemplateValues = Readonly<Record<Placeholder, string>>

export const TemplateFileSchema = z.strictObject({
  subject: z.string().min(1).max(256),
  text: z.string().min(1).max(16_384),
  html: z.string().min(1).max(65_536),
})

export interface RenderedMail {
  readonly subject: string
  readonly text: string
  readonly html: string
}

export type RenderMail = (values: TemplateValues) => RenderedMail

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g

/** Literal text at even indexes, placeholder names at odd ones. */
type Part = string

/** The parts of one field, or the problem with it. */
function compileField(field: string, text: string): Part[] | string {
  const parts: Part[] = []
  let at = 0
  for (const match of text.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? ''
    if (!(PLACEHOLDERS as readonly string[]).includes(name))
      return `${field}: unknown placeholder {{${name}}} (use ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')})`
    parts.push(text.slice(at, match.index), name)
    at = match.index + match[0].length
  }
  parts.push(text.slice(at))
  return parts
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}
export const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c)
/** Header values cannot carry line breaks (header injection): they become spaces. */
const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ')

const fill = (parts: readonly Part[], values: TemplateValues, escape: (v: string) => string) =>
  parts.map((part, i) => (i % 2 === 1 ? escape(values[part as Placeholder]) : part)).join('')

/** Compiles a parsed template file, or returns its problems (field and reason, no values). */
export function compileTemplate(file: unknown): RenderMail | string[] {
  const parsed = TemplateFileSchema.safeParse(file)
  if (!parsed.success)
    return parsed.error.issues.map((issue) => `${issue.path.join('.') || 'file'}: ${issue.message}`)
  const problems: string[] = []
  const compiled: Partial<Record<keyof RenderedMail, Part[]>> = {}
  for (const field of ['subject', 'text', 'html'] as const) {
    const parts = compileField(field, parsed.data[field])
    if (typeof parts === 'string') problems.push(parts)
    else {
      compiled[field] = parts
      if (field !== 'subject' && !parts.includes('code'))
        problems.push(`${field}: has no {{code}} placeholder`)
    }
  }
  const { subject, text, html } = compiled
  if (problems.length > 0 || subject === undefined || text === undefined || html === undefined)
    return problems
  return (values) => ({
    subject: oneLine(fill(subject, values, (v) => v)),
    text: fill(text, values, (v) => v),
    html: fill(html, values, escapeHtml),
  })
}
