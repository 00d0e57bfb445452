// OnAttributeCollectionSubmit: after the user submits the sign-up attribute page (contract §5).
// From EXTENSION_CONFIG attributeCollectionSubmit, in this order:
//   1. normalise the attributes whose rules ask for it (trim, collapse spaces, case);
//   2. the first block rule that holds → showBlockPage;
//   3. every attribute rule is checked → showValidationError listing each failed attribute
//      (HTTP 200: a 4xx would break the user's flow, contract §9.4);
//   4. remote validation, when configured → its answer, or the onFailure policy;
//   5. values changed by normalisation (or the remote API) → modifyAttributeValues; else continue.
import { compileText } from '../../extension-config/localized-text.js'
import type { AttributeCollectionSubmitConfig } from '../../extension-config/sign-up.js'
import { compileAttributeRule } from '../../sign-up/attribute-rules.js'
import { compileBlockRules, firstBlockingRule } from '../../sign-up/conditions.js'
import type { RemoteValidator } from '../../sign-up/remote-validation.js'
import { readSignUpFacts, type AttributeValue } from '../../sign-up/sign-up-facts.js'
import type { HandlerContext } from '../handler-context.js'
import {
  continueSubmit,
  modifyAttributeValues,
  showSubmitBlockPage,
  showValidationError,
} from './actions.js'
import type { AttributeCollectionSubmitEvent, AttributeCollectionSubmitResponse } from './schema.js'

export const DEFAULT_VALIDATION_MESSAGE = 'Please correct the highlighted fields.'

export function createAttributeCollectionSubmitHandler(
  config: AttributeCollectionSubmitConfig,
  defaultLocale: string,
  remote?: RemoteValidator,
) {
  const blocks = compileBlockRules(config.block, defaultLocale)
  const rules = Object.entries(config.attributes).map(([name, rule]) =>
    compileAttributeRule(name, rule, defaultLocale),
  )
  const validationMessage = compileText(
    config.validationMessage ?? DEFAULT_VALIDATION_MESSAGE,
    defaultLocale,
  )
  const onFailure = config.remoteValidation?.onFailure
  const failureBlock =
    onFailure?.action === 'showBlockPage'
      ? {
          message: compileText(onFailure.message, defaultLocale),
          title:
            onFailure.title === undefined ? undefined : compileText(onFailure.title, defaultLocale),
        }
      : undefined

  return async function handleAttributeCollectionSubmit(
    event: AttributeCollectionSubmitEvent,
    context: HandlerContext,
  ): Promise<AttributeCollectionSubmitResponse> {
    const facts = readSignUpFacts(event.data.userSignUpInfo, event.data.authenticationContext)
    const locale = facts.locale

    // 1. Normalise: values by received name; changes only for attributes that were collected.
    const values = new Map<string, AttributeValue | undefined>(
      facts.attributes.map((attribute) => [attribute.name, attribute.value]),
    )
    const changed: Record<string, string | number | boolean> = {}
    for (const rule of rules) {
      const attribute = facts.attribute(rule.name)
      if (attribute === undefined) continue
      const normalised = rule.normalise(attribute.value)
      if (normalised === undefined) continue
      values.set(attribute.name, normalised)
      const before = Array.isArray(attribute.value) ? attribute.value.join(',') : attribute.value
      if (normalised !== before) changed[attribute.name] = normalised
    }
    // Rules and conditions name attributes as configured; read them regardless of case.
    const read = (name: string) => {
      const attribute = facts.attribute(name)
      return attribute === undefined ? undefined : values.get(attribute.name)
    }

    // 2. Block rules.
    const block = firstBlockingRule(blocks, facts, read)
    if (block !== undefined) {
      context.log.info('sign_up_blocked', { event: 'submit', rule: block.index })
      return showSubmitBlockPage(block.message(locale), block.title?.(locale))
    }

    // 3. Attribute rules: every failure at once, keyed by the name as received (contract §5).
    // A rule applies only to an attribute the request carries: one extension serves several user
    // flows, and an error naming a field that is not on the page would block the sign-up for good.
    const errors: Record<string, string> = {}
    for (const rule of rules) {
      const attribute = facts.attribute(rule.name)
      if (attribute === undefined) continue
      const failed = rule.check(values.get(attribute.name))
      if (failed === undefined) continue
      errors[attribute.name] = rule.errorText(failed, locale)
    }
    const failedNames = Object.keys(errors)
    if (failedNames.length > 0) {
      // Attribute names are schema, not personal data; the values are never logged.
      context.log.info('sign_up_invalid', { attributes: failedNames.join(',') })
      return showValidationError(validationMessage(locale), errors)
    }

    // 4. The customer's API.
    if (remote !== undefined) {
      const decision = await remote.validate({
        facts,
        values,
        correlationId: event.data.authenticationContext.correlationId,
        signal: context.signal,
        remainingMs: context.remainingMs(),
        log: context.log,
      })
      switch (decision.action) {
        case 'failed':
          if (failureBlock !== undefined)
            return showSubmitBlockPage(failureBlock.message(locale), failureBlock.title?.(locale))
          break // policy "continue"
        case 'showBlockPage':
          return showSubmitBlockPage(decision.message, decision.title)
        case 'showValidationError':
          return showValidationError(decision.message, decision.attributeErrors)
        case 'modifyAttributeValues':
          Object.assign(changed, decision.attributes)
          break
        case 'continue':
          break
      }
    }

    // 5. Send back what normalisation (or the API) changed.
    return Object.keys(changed).length === 0 ? continueSubmit() : modifyAttributeValues(changed)
  }
}
