// Block conditions (EXTENSION_CONFIG "block": [{ when, title, message }]), compiled once.
// Every condition given must hold; an empty "when" always holds (e.g. "sign-up is closed").
import type { BlockRule, Condition } from '../extension-config/sign-up.js'
import { compileText, type TextForLocale } from '../extension-config/localized-text.js'
import { domainMatches, valueText, type AttributeValue, type SignUpFacts } from './sign-up-facts.js'

/** Reads an attribute's current value (on Submit, after normalisation) by configured name. */
export type ReadValue = (name: string) => AttributeValue | undefined
type Test = (facts: SignUpFacts, read: ReadValue) => boolean

function inOrNotIn<T>(
  matcher: { in?: T[] | undefined; notIn?: T[] | undefined },
  has: (list: T[]) => boolean,
) {
  return matcher.in !== undefined ? has(matcher.in) : !has(matcher.notIn ?? [])
}

export function compileCondition(condition: Condition): Test {
  const tests: Test[] = []
  const { emailDomain, clientAppId, attributes } = condition
  if (emailDomain !== undefined) {
    // No verified address (a Google sign-up, say): onMissing decides; by default a deny list
    // ("in") lets it through and an allow list ("notIn") blocks it.
    const missing = emailDomain.onMissing ?? (emailDomain.in !== undefined ? 'allow' : 'block')
    tests.push((facts) =>
      facts.emailDomain === undefined
        ? missing === 'block'
        : inOrNotIn(emailDomain, (list) => domainMatches(facts.emailDomain as string, list)),
    )
  }
  if (clientAppId !== undefined) {
    tests.push((facts) =>
      inOrNotIn(
        clientAppId,
        (list) => facts.clientAppId !== undefined && list.includes(facts.clientAppId),
      ),
    )
  }
  for (const [name, matcher] of Object.entries(attributes ?? {})) {
    // Compared as text: an absent attribute reads as "", true as "true", 2019 as "2019".
    tests.push((_facts, read) => {
      const text = valueText(read(name))
      return inOrNotIn(matcher, (list) => list.some((item) => String(item) === text))
    })
  }
  return (facts, read) => tests.every((test) => test(facts, read))
}

export interface CompiledBlockRule {
  readonly index: number
  readonly holds: Test
  readonly title: TextForLocale | undefined
  readonly message: TextForLocale
}

export function compileBlockRules(
  rules: readonly BlockRule[],
  defaultLocale: string,
): CompiledBlockRule[] {
  return rules.map((rule, index) => ({
    index,
    holds: compileCondition(rule.when),
    title: rule.title === undefined ? undefined : compileText(rule.title, defaultLocale),
    message: compileText(rule.message, defaultLocale),
  }))
}

export function firstBlockingRule(
  rules: readonly CompiledBlockRule[],
  facts: SignUpFacts,
  read: ReadValue,
): CompiledBlockRule | undefined {
  return rules.find((rule) => rule.holds(facts, read))
}
