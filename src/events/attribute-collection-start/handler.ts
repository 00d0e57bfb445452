// OnAttributeCollectionStart: before the sign-up attribute page is shown (contract §5). From
// EXTENSION_CONFIG attributeCollectionStart: the first block rule that holds shows a block page;
// otherwise configured prefill values are set; otherwise sign-up continues unchanged.
import type { AttributeCollectionStartConfig, PrefillRule } from '../../extension-config/sign-up.js'
import { compileBlockRules, firstBlockingRule } from '../../sign-up/conditions.js'
import { readSignUpFacts, type SignUpFacts } from '../../sign-up/sign-up-facts.js'
import type { HandlerContext } from '../handler-context.js'
import { continueSignUp, setPrefillValues, showStartBlockPage } from './actions.js'
import type { AttributeCollectionStartEvent, AttributeCollectionStartResponse } from './schema.js'

type Scalar = string | number | boolean
const TYPE_OF_VALUE = { string: 'string', number: 'int64', boolean: 'boolean' } as const

function compilePrefill(rule: PrefillRule): (facts: SignUpFacts) => Scalar | undefined {
  if (rule.value !== undefined) {
    const value = rule.value
    return () => value
  }
  switch (rule.from) {
    case 'email':
      return (facts) => facts.email
    case 'emailDomain':
      return (facts) => facts.emailDomain
    case 'locale':
      return (facts) => facts.locale
    case 'market':
      return (facts) => facts.market
    case undefined:
      return () => undefined // unreachable: the schema requires "value" or "from"
  }
}

export function createAttributeCollectionStartHandler(
  config: AttributeCollectionStartConfig,
  defaultLocale: string,
) {
  const blocks = compileBlockRules(config.block, defaultLocale)
  const prefills = Object.entries(config.prefill).map(
    ([name, rule]) => [name, compilePrefill(rule)] as const,
  )

  function answer(
    event: AttributeCollectionStartEvent,
    context: HandlerContext,
  ): AttributeCollectionStartResponse {
    if (blocks.length === 0 && prefills.length === 0) return continueSignUp()
    const facts = readSignUpFacts(event.data.userSignUpInfo, event.data.authenticationContext)

    const read = (name: string) => facts.attribute(name)?.value
    const block = firstBlockingRule(blocks, facts, read)
    if (block !== undefined) {
      context.log.info('sign_up_blocked', { event: 'start', rule: block.index })
      return showStartBlockPage(block.message(facts.locale), block.title?.(facts.locale))
    }

    // Only attributes on the page (the request lists the ones the user flow collects; the API
    // cannot add attributes), under the name as received and in the type Entra declared.
    const inputs: Record<string, Scalar> = {}
    for (const [name, prefill] of prefills) {
      const attribute = facts.attribute(name)
      if (attribute === undefined) continue
      const value = prefill(facts)
      if (value === undefined || value === '') continue
      const type = TYPE_OF_VALUE[typeof value as keyof typeof TYPE_OF_VALUE]
      if (attribute.type !== undefined && attribute.type !== type) {
        context.log.warn('prefill_skipped', {
          attribute: attribute.name,
          reason: `Entra declares it ${attribute.type}`,
        })
        continue
      }
      inputs[attribute.name] = value
    }
    return Object.keys(inputs).length === 0 ? continueSignUp() : setPrefillValues(inputs)
  }

  return function handleAttributeCollectionStart(
    event: AttributeCollectionStartEvent,
    context: HandlerContext,
  ): Promise<AttributeCollectionStartResponse> {
    return Promise.resolve(answer(event, context))
  }
}
