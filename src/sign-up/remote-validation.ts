// The escape hatch: POST the submitted attributes to the customer's own HTTPS API and map its
// answer to a Submit action. The call has its own timeout and never outlives the request's
// budget; when the API is slow, down, or answers something unusable, the configured onFailure
// policy decides (continue, or a block page), so the user never sees Entra's generic error.
//
// The API receives (POST, application/json):
//   { "type": "attributeCollectionSubmit", "correlationId", "locale", "clientAppId", "email",
//     "attributes": { "<name as received>": <value after normalisation> } }
// and answers 200 with one of:
//   { "action": "continue" }
//   { "action": "modifyAttributeValues", "attributes": { "<name>": <value of the same type> } }
//   { "action": "showValidationError", "message": "…", "attributeErrors": { "<name>": "…" } }
//   { "action": "showBlockPage", "title": "…", "message": "…" }
import { ANSWER_RESERVE_MS } from '../deadline.js'
import * as z from 'zod'
import { ATTRIBUTE_NAME_PATTERN, MAX_ATTRIBUTES } from '../events/attribute-collection.js'
import { describeIssue } from '../describe-issue.js'
import type { RemoteValidation } from '../extension-config/sign-up.js'
import type { Logger } from '../log.js'
import type { AccessTokenSource } from '../outbound/access-token.js'
import { fetchJson, OutboundError } from '../outbound/fetch-json.js'
import type { AttributeValue, SignUpFacts } from './sign-up-facts.js'

const MAX_ANSWER_BYTES = 65_536

const Name = z.string().regex(ATTRIBUTE_NAME_PATTERN)
const bounded = <T extends z.ZodType>(record: T) =>
  record.refine(
    (r) => Object.keys(r as object).length <= MAX_ATTRIBUTES,
    `at most ${MAX_ATTRIBUTES} attributes`,
  )

// Customer APIs may add fields of their own: tolerated (z.object), only ours are read.
const RemoteAnswerSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('continue') }),
  z.object({
    action: z.literal('modifyAttributeValues'),
    attributes: bounded(
      z.record(Name, z.union([z.string().max(4096), z.number().int(), z.boolean()])),
    ),
  }),
  z.object({
    action: z.literal('showValidationError'),
    message: z.string().min(1).max(1024),
    attributeErrors: bounded(z.record(Name, z.string().min(1).max(1024))).default({}),
  }),
  z.object({
    action: z.literal('showBlockPage'),
    title: z.string().min(1).max(256).optional(),
    message: z.string().min(1).max(1024),
  }),
])

export type RemoteDecision =
  | { readonly action: 'continue' }
  | {
      readonly action: 'modifyAttributeValues'
      readonly attributes: Record<string, string | number | boolean>
    }
  | {
      readonly action: 'showValidationError'
      readonly message: string
      readonly attributeErrors: Record<string, string>
    }
  | {
      readonly action: 'showBlockPage'
      readonly title?: string | undefined
      readonly message: string
    }
  | { readonly action: 'failed'; readonly reason: string }

export interface RemoteCall {
  readonly facts: SignUpFacts
  readonly values: ReadonlyMap<string, AttributeValue | undefined>
  readonly correlationId: string
  readonly signal: AbortSignal
  readonly remainingMs: number
  readonly log: Logger
}

export interface RemoteValidator {
  validate(call: RemoteCall): Promise<RemoteDecision>
}

export function createRemoteValidator(
  config: RemoteValidation,
  auth: { readonly header?: { name: string; value: string }; readonly tokens?: AccessTokenSource },
  now: () => number = performance.now.bind(performance),
): RemoteValidator {
  return {
    async validate(call) {
      const started = now()
      const budget = Math.min(config.timeoutMs, call.remainingMs - ANSWER_RESERVE_MS)
      const fail = (reason: string): RemoteDecision => {
        call.log.warn('remote_validation_failed', { reason, ms: Math.round(now() - started) })
        return { action: 'failed', reason }
      }
      if (budget <= 0) return fail('no time left in the request budget')
      try {
        const headers: Record<string, string> = { 'x-correlation-id': call.correlationId }
        if (auth.header !== undefined) headers[auth.header.name] = auth.header.value
        if (auth.tokens !== undefined) {
          const token = await auth.tokens.getToken(
            call.signal,
            Math.max(1, Math.round(budget - (now() - started))),
          )
          headers.authorization = `Bearer ${token}`
        }
        const left = Math.max(1, Math.round(budget - (now() - started)))
        const answer = await fetchJson(config.url, {
          method: 'POST',
          headers,
          body: requestBody(call),
          timeoutMs: left,
          signal: call.signal,
          maxBytes: MAX_ANSWER_BYTES,
        })
        const decision = toDecision(answer.body, call.facts)
        if (typeof decision === 'string') return fail(`unusable answer: ${decision}`)
        call.log.info('remote_validation', {
          action: decision.action,
          ms: Math.round(now() - started),
        })
        return decision
      } catch (err) {
        if (err instanceof OutboundError) return fail(err.message)
        throw err
      }
    },
  }
}

function requestBody(call: RemoteCall) {
  const attributes: Record<string, AttributeValue> = {}
  for (const [name, value] of call.values) if (value !== undefined) attributes[name] = value
  return {
    type: 'attributeCollectionSubmit',
    correlationId: call.correlationId,
    locale: call.facts.locale ?? null,
    clientAppId: call.facts.clientAppId ?? null,
    email: call.facts.email ?? null,
    attributes,
  }
}

const TYPE_OF_VALUE = { string: 'string', number: 'int64', boolean: 'boolean' } as const

/** The decision, or why the answer cannot be used (names and types only, never values). */
function toDecision(body: unknown, facts: SignUpFacts): RemoteDecision | string {
  const parsed = RemoteAnswerSchema.safeParse(body)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    if (issue === undefined) return 'invalid'
    // A key of the answer that is no attribute name is the API's text, not ours: it may be the
    // user's e-mail address (an API that keys its answer by user). Name it by its shape only.
    const path = issue.path.map((segment) =>
      typeof segment === 'string' && !ATTRIBUTE_NAME_PATTERN.test(segment) ? '<key>' : segment,
    )
    return describeIssue({ ...issue, path }, { quotePath: true })
  }
  const answer = parsed.data
  if (answer.action === 'modifyAttributeValues') {
    // Contract §5: an answer may only change attributes that were collected, keeping their type.
    const attributes: Record<string, string | number | boolean> = {}
    for (const [name, value] of Object.entries(answer.attributes)) {
      const received = facts.attribute(name)
      if (received === undefined) return `"attributes.${name}" was not collected`
      const type = TYPE_OF_VALUE[typeof value as keyof typeof TYPE_OF_VALUE]
      if (received.type !== undefined && received.type !== type)
        return `"attributes.${name}" must be ${received.type === 'int64' ? 'an' : 'a'} ${received.type} value`
      attributes[received.name] = value
    }
    return { action: 'modifyAttributeValues', attributes }
  }
  if (answer.action === 'showValidationError') {
    const attributeErrors: Record<string, string> = {}
    for (const [name, text] of Object.entries(answer.attributeErrors))
      attributeErrors[facts.attribute(name)?.name ?? name] = text
    return { action: 'showValidationError', message: answer.message, attributeErrors }
  }
  return answer
}
