// Per-attribute rules for OnAttributeCollectionSubmit (EXTENSION_CONFIG
// attributeCollectionSubmit.attributes), compiled once: patterns on the linear-time engine,
// texts resolved per locale. A rule normalises first, then checks the normalised value.
import type { AttributeRule, Check, Normalisation } from '../extension-config/sign-up.js'
import { compileText, type TextForLocale } from '../extension-config/localized-text.js'
import { compilePattern } from './safe-pattern.js'
import {
  domainMatches,
  domainOf,
  isEmpty,
  valueItems,
  valueText,
  type AttributeValue,
} from './sign-up-facts.js'

export interface CompiledAttributeRule {
  /** The configured name; the request's attribute is found regardless of case. */
  readonly name: string
  /** The normalised value, or undefined when the rule does not normalise this value. */
  normalise(value: AttributeValue | undefined): string | undefined
  /** The first failed check, or undefined when the value passes. */
  check(value: AttributeValue | undefined): Check | undefined
  errorText(check: Check, locale: string | undefined): string
}

const NORMALISERS: Record<Normalisation, (text: string) => string> = {
  trim: (text) => text.trim(),
  collapseSpaces: (text) => text.replace(/\s+/g, ' '),
  lowercase: (text) => text.toLowerCase(),
  uppercase: (text) => text.toUpperCase(),
}

/** Length as users count it: code points, so "Malmö" and an emoji are not inflated. */
const codePoints = (text: string) => Array.from(text).length

function defaultMessages(rule: AttributeRule): Record<Check, string> {
  const { minLength, maxLength, minimum, maximum } = rule
  const length =
    minLength !== undefined && maxLength !== undefined
      ? `Use between ${minLength} and ${maxLength} characters.`
      : minLength !== undefined
        ? `Use at least ${minLength} characters.`
        : `Use at most ${maxLength ?? 0} characters.`
  const range =
    minimum !== undefined && maximum !== undefined
      ? `Enter a whole number from ${minimum} to ${maximum}.`
      : minimum !== undefined
        ? `Enter a whole number of at least ${minimum}.`
        : maximum !== undefined
          ? `Enter a whole number of at most ${maximum}.`
          : 'Enter a whole number.'
  return {
    required: 'This field is required.',
    length,
    pattern: 'This value is not in the expected format.',
    allowedValues: 'Choose one of the offered values.',
    emailDomain: 'Use an e-mail address from an accepted domain.',
    mustBeTrue: 'This must be accepted to continue.',
    range,
  }
}

export function compileAttributeRule(
  name: string,
  rule: AttributeRule,
  defaultLocale: string,
): CompiledAttributeRule {
  const steps = (rule.normalize ?? []).map((step) => NORMALISERS[step])
  const normaliseText = (text: string) => steps.reduce((out, step) => step(out), text)
  const pattern = rule.pattern === undefined ? undefined : compilePattern(rule.pattern)
  const allowed =
    rule.allowedValues === undefined ? undefined : new Set(rule.allowedValues.map(String))
  const multi = rule.multiValue === true

  const checks: ((value: AttributeValue | undefined, text: string) => Check | undefined)[] = []
  const { minLength, maxLength, minimum, maximum, emailDomain } = rule
  if (minLength !== undefined || maxLength !== undefined) {
    checks.push((_value, text) => {
      const length = codePoints(text)
      return (minLength !== undefined && length < minLength) ||
        (maxLength !== undefined && length > maxLength)
        ? 'length'
        : undefined
    })
  }
  if (minimum !== undefined || maximum !== undefined) {
    // Compared as integers of any size: an int64 beyond 2^53 arrives as the string of its digits.
    const low = minimum === undefined ? undefined : BigInt(minimum)
    const high = maximum === undefined ? undefined : BigInt(maximum)
    checks.push((value, text) => {
      const digits = typeof value === 'number' ? String(value) : text.trim()
      if (!/^-?\d{1,4096}$/.test(digits)) return 'range'
      const number = BigInt(digits)
      return (low !== undefined && number < low) || (high !== undefined && number > high)
        ? 'range'
        : undefined
    })
  }
  if (pattern !== undefined) {
    checks.push((value, text) =>
      (multi ? valueItems(value) : [text]).every((item) => pattern.matches(item))
        ? undefined
        : 'pattern',
    )
  }
  if (allowed !== undefined) {
    checks.push((value, text) =>
      (multi ? valueItems(value) : [text]).every((item) => allowed.has(item))
        ? undefined
        : 'allowedValues',
    )
  }
  if (emailDomain !== undefined) {
    checks.push((_value, text) => {
      const domain = domainOf(text.trim())
      if (domain === undefined) return 'emailDomain'
      if (emailDomain.allow !== undefined && !domainMatches(domain, emailDomain.allow))
        return 'emailDomain'
      if (emailDomain.deny !== undefined && domainMatches(domain, emailDomain.deny))
        return 'emailDomain'
      return undefined
    })
  }

  const defaults = defaultMessages(rule)
  const general = rule.message === undefined ? undefined : compileText(rule.message, defaultLocale)
  const texts = new Map<Check, TextForLocale>()
  for (const [check, text] of Object.entries(rule.messages ?? {}))
    if (text !== undefined) texts.set(check as Check, compileText(text, defaultLocale))

  return {
    name,
    normalise(value) {
      if (
        steps.length === 0 ||
        value === undefined ||
        typeof value === 'number' ||
        typeof value === 'boolean'
      )
        return undefined
      if (multi || typeof value !== 'string') return valueItems(value).map(normaliseText).join(',')
      return normaliseText(value)
    },
    check(value) {
      // A terms box left unticked arrives as false or "false": both fail. (A rule for an attribute
      // the request does not carry is not applied at all: see the Submit handler.)
      if (rule.mustBeTrue === true && value !== true && valueText(value).toLowerCase() !== 'true')
        return 'mustBeTrue'
      if (isEmpty(value)) return rule.required === true ? 'required' : undefined
      const text = valueText(value)
      for (const check of checks) {
        const failed = check(value, text)
        if (failed !== undefined) return failed
      }
      return undefined
    },
    errorText(check, locale) {
      return (texts.get(check) ?? general)?.(locale) ?? defaults[check]
    },
  }
}
