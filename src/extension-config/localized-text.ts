// Texts shown to users, in one language or several: "Use letters only." or
// { "en": "Use letters only.", "sv": "Använd bara bokstäver." }. The language is chosen from the
// request's authenticationContext.client.locale (contract §3: lower-case BCP-47-like, "sv-se"):
// the exact tag, then its language ("sv"), then EXTENSION_CONFIG's defaultLocale. Every map must
// hold the default locale (the config schema checks), so a text always resolves.
import * as z from 'zod'

const LOCALE_TAG = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/

/** Tags are compared lower-case with "-" ("en_US" and "en-us" are the same tag). */
export const normaliseLocale = (tag: string) => tag.trim().toLowerCase().replaceAll('_', '-')

export const LocaleSchema = z
  .string()
  .max(35)
  .transform(normaliseLocale)
  .pipe(z.string().regex(LOCALE_TAG, 'must be a language tag such as "en" or "sv-se"'))

/**
 * A text of at most `maxLength` characters, in every language. Callers pass the limit of the
 * answer field the text ends up in (ANSWER_TEXT_MAX in src/events/attribute-collection.ts).
 */
export function localizedText(maxLength: number) {
  return z
    .union([
      z.string().min(1).max(maxLength),
      z
        .record(LocaleSchema, z.string().min(1).max(maxLength))
        .refine((texts) => Object.keys(texts).length >= 1, 'give at least one language')
        .refine((texts) => Object.keys(texts).length <= 50, 'at most 50 languages'),
    ])
    .describe('A text, or texts by language tag ("en", "sv-se"); maps must include defaultLocale.')
}

export type LocalizedText = z.infer<ReturnType<typeof localizedText>>

/** Picks a text for a request's locale. */
export type TextForLocale = (locale: string | null | undefined) => string

export function compileText(text: LocalizedText, defaultLocale: string): TextForLocale {
  if (typeof text === 'string') return () => text
  const texts = new Map(Object.entries(text))
  const fallback = texts.get(defaultLocale) ?? [...texts.values()][0] ?? ''
  return (locale) => {
    if (locale === null || locale === undefined || locale === '') return fallback
    const tag = normaliseLocale(locale)
    const exact = texts.get(tag)
    if (exact !== undefined) return exact
    const dash = tag.indexOf('-')
    return (dash > 0 ? texts.get(tag.slice(0, dash)) : undefined) ?? fallback
  }
}

/** The problem with a text under `defaultLocale`, or undefined. */
export function missingDefault(text: LocalizedText, defaultLocale: string): string | undefined {
  if (typeof text === 'string' || Object.hasOwn(text, defaultLocale)) return undefined
  return `has no text for the default locale "${defaultLocale}"`
}
