// The EXTENSION_CONFIG sections for External ID sign-up: attributeCollectionStart (prefill, block)
// and attributeCollectionSubmit (block, per-attribute rules, normalisation, remote validation).
// Declarative on purpose: a customer expresses the common policies without writing code, and the
// escape hatch is their own HTTP API (remoteValidation), not a script in this file.
import * as z from 'zod'
import { isSecureUrl } from '../secure-url.js'
import {
  ANSWER_TEXT_MAX,
  ATTRIBUTE_NAME_PATTERN,
  MAX_ATTRIBUTES,
} from '../events/attribute-collection.js'
import { GUID_PATTERN } from '../events/common.js'
import { patternProblem } from '../sign-up/safe-pattern.js'
import { localizedText, type LocalizedText } from './localized-text.js'

const AttributeNameSchema = z
  .string()
  .regex(
    ATTRIBUTE_NAME_PATTERN,
    'attribute names are letters, digits and _ (e.g. "city", "extension_<appId>_terms")',
  )

const ScalarSchema = z.union([z.string().max(1024), z.number().int(), z.boolean()])

/** "contoso.com" matches that domain only; "*.contoso.com" matches its subdomains (not the domain itself). */
const DomainPatternSchema = z
  .string()
  .max(253)
  .transform((domain) => domain.trim().toLowerCase())
  .pipe(
    z
      .string()
      .regex(
        /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/,
        'must be a domain such as "contoso.com" or "*.contoso.com"',
      ),
  )
const DomainListSchema = z.array(DomainPatternSchema).min(1).max(1000)

/** `{ "in": [...] }` or `{ "notIn": [...] }`, before the check that exactly one is given. */
function matcherShape<T extends z.ZodType>(item: T) {
  return z.strictObject({
    in: z.array(item).min(1).max(1000).optional(),
    notIn: z.array(item).min(1).max(1000).optional(),
  })
}
const EXACTLY_ONE = [
  (m: { in?: unknown; notIn?: unknown }) => (m.in === undefined) !== (m.notIn === undefined),
  { message: 'set exactly one of "in" or "notIn"' },
] as const

/** `{ "in": [...] }` or `{ "notIn": [...] }`: exactly one. */
function matcher<T extends z.ZodType>(item: T) {
  return matcherShape(item).refine(...EXACTLY_ONE)
}

export const ConditionSchema = z
  .strictObject({
    emailDomain: matcherShape(DomainPatternSchema)
      .extend({
        onMissing: z
          .enum(['block', 'allow'])
          .optional()
          .describe(
            'When the sign-up has no verified address (a Google or Facebook sign-up): "block" makes the condition hold, "allow" makes it fail. Default: "allow" with "in" (a deny list), "block" with "notIn" (an allow list).',
          ),
      })
      .refine(...EXACTLY_ONE)
      .optional()
      .describe(
        "The domain of the verified sign-up address (an e-mail identity), never a typed 'email' attribute.",
      ),
    clientAppId: matcher(
      z
        .string()
        .regex(GUID_PATTERN, 'must be a GUID')
        .transform((id) => id.toLowerCase()),
    )
      .optional()
      .describe('The appId of the application the user is signing up to.'),
    attributes: z
      .record(AttributeNameSchema, matcher(ScalarSchema))
      .refine(
        (a) => Object.keys(a).length <= MAX_ATTRIBUTES,
        `at most ${MAX_ATTRIBUTES} attributes`,
      )
      .optional()
      .describe('Attribute values (after normalisation); an absent attribute reads as "".'),
  })
  .describe('Every condition given must hold; no condition at all always holds.')
export type Condition = z.infer<typeof ConditionSchema>

// Each text is bounded by the answer field it is sent in (ANSWER_TEXT_MAX).
const TitleText = localizedText(ANSWER_TEXT_MAX.title)
const MessageText = localizedText(ANSWER_TEXT_MAX.message)
const AttributeErrorText = localizedText(ANSWER_TEXT_MAX.attributeError)

const BlockRuleSchema = z.strictObject({
  when: ConditionSchema.default({}),
  title: TitleText.optional(),
  message: MessageText,
})
export type BlockRule = z.infer<typeof BlockRuleSchema>
const BlockRulesSchema = z
  .array(BlockRuleSchema)
  .max(100)
  .default([])
  .describe('Checked in order; the first rule whose conditions hold shows its block page.')

export const PREFILL_SOURCES = ['email', 'emailDomain', 'locale', 'market'] as const
export type PrefillSource = (typeof PREFILL_SOURCES)[number]

const PrefillRuleSchema = z
  .strictObject({
    value: ScalarSchema.optional().describe('A static value (string, integer or boolean).'),
    from: z
      .enum(PREFILL_SOURCES)
      .optional()
      .describe(
        'Take the value from the request: the sign-up e-mail, its domain, client locale or market.',
      ),
  })
  .refine((rule) => (rule.value === undefined) !== (rule.from === undefined), {
    message: 'set exactly one of "value" or "from"',
  })
export type PrefillRule = z.infer<typeof PrefillRuleSchema>

export const AttributeCollectionStartConfigSchema = z.strictObject({
  prefill: z
    .record(AttributeNameSchema, PrefillRuleSchema)
    .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, `at most ${MAX_ATTRIBUTES} attributes`)
    .default({})
    .describe('Values to prefill, by attribute name; only attributes on the page are prefilled.'),
  block: BlockRulesSchema,
})
export type AttributeCollectionStartConfig = z.infer<typeof AttributeCollectionStartConfigSchema>

export const NORMALISATIONS = ['trim', 'collapseSpaces', 'lowercase', 'uppercase'] as const
export type Normalisation = (typeof NORMALISATIONS)[number]

export const CHECKS = [
  'required',
  'length',
  'pattern',
  'allowedValues',
  'emailDomain',
  'mustBeTrue',
  'range',
] as const
export type Check = (typeof CHECKS)[number]

const PatternSchema = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    const problem = patternProblem(pattern)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `pattern ${problem}` })
  })

const AttributeRuleSchema = z
  .strictObject({
    required: z.boolean().optional().describe('The value must not be empty.'),
    minLength: z.number().int().min(0).max(4096).optional(),
    maxLength: z.number().int().min(1).max(4096).optional(),
    pattern: PatternSchema.optional().describe(
      'RE2 syntax, run in linear time; the whole value must match. Checked at start-up: lookaround and backreferences are refused.',
    ),
    allowedValues: z.array(ScalarSchema).min(1).max(1000).optional(),
    emailDomain: z
      .strictObject({ allow: DomainListSchema.optional(), deny: DomainListSchema.optional() })
      .refine((d) => d.allow !== undefined || d.deny !== undefined, 'set "allow", "deny" or both')
      .optional()
      .describe(
        'The value is an e-mail address whose domain must be allowed and not denied. It checks what the user typed, not who they are: to decide who may sign up, use a block rule on the verified address (when.emailDomain).',
      ),
    mustBeTrue: z
      .literal(true)
      .optional()
      .describe('A boolean that must be true (terms accepted).'),
    minimum: z.number().int().optional(),
    maximum: z.number().int().optional(),
    multiValue: z
      .boolean()
      .optional()
      .describe('A multi-select attribute: comma-delimited values, each checked on its own.'),
    normalize: z
      .array(z.enum(NORMALISATIONS))
      .max(4)
      .optional()
      .describe(
        'Applied before the checks; a changed value is sent back with modifyAttributeValues.',
      ),
    message: AttributeErrorText.optional().describe('The error shown for any failed check.'),
    messages: z
      .partialRecord(z.enum(CHECKS), AttributeErrorText)
      .optional()
      .describe('Errors by check, overriding "message".'),
  })
  .refine(
    (r) => r.minLength === undefined || r.maxLength === undefined || r.minLength <= r.maxLength,
    { message: '"minLength" is greater than "maxLength"', path: ['minLength'] },
  )
  .refine((r) => r.minimum === undefined || r.maximum === undefined || r.minimum <= r.maximum, {
    message: '"minimum" is greater than "maximum"',
    path: ['minimum'],
  })
  .refine(
    (r) => !(r.normalize?.includes('lowercase') === true && r.normalize.includes('uppercase')),
    { message: '"lowercase" and "uppercase" exclude each other', path: ['normalize'] },
  )
export type AttributeRule = z.infer<typeof AttributeRuleSchema>

export const SECRET_SETTING = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/

export const RemoteAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('header'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name')
      .refine(
        (n) => !['host', 'content-length', 'content-type'].includes(n.toLowerCase()),
        'reserved header',
      ),
    secretSetting: z
      .string()
      .regex(SECRET_SETTING, 'must be an app setting name (letters, digits, _)')
      .describe(
        'The app setting (environment variable, e.g. a Key Vault reference) holding the value.',
      ),
  }),
  z.strictObject({
    type: z.literal('managedIdentity'),
    scope: z.string().min(1).max(512).describe('e.g. "api://<app id>/.default"'),
    clientId: z
      .string()
      .regex(GUID_PATTERN, 'must be a GUID')
      .optional()
      .describe("A user-assigned identity's client ID; omit for the system-assigned identity."),
  }),
])
export type RemoteAuth = z.infer<typeof RemoteAuthSchema>

const FailurePolicySchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('continue') }),
  z.strictObject({
    action: z.literal('showBlockPage'),
    title: TitleText.optional(),
    message: MessageText,
  }),
])
export type FailurePolicy = z.infer<typeof FailurePolicySchema>

export const RemoteValidationSchema = z.strictObject({
  url: z
    .string()
    .refine(isSecureUrl, 'must be an https URL (http only for loopback hosts)')
    .refine(
      (url) => !/[{}]/.test(url),
      'takes no placeholders such as {user.id}: it is called exactly as written',
    ),
  timeoutMs: z
    .number()
    .int()
    .min(50)
    .max(1800)
    .default(500)
    .describe('Its own timeout; the request deadline (REQUEST_BUDGET_MS) caps it.'),
  auth: RemoteAuthSchema.optional(),
  onFailure: FailurePolicySchema.describe(
    'What the user gets when the API is slow, down or answers something unusable.',
  ),
})
export type RemoteValidation = z.infer<typeof RemoteValidationSchema>

export const AttributeCollectionSubmitConfigSchema = z.strictObject({
  block: BlockRulesSchema,
  attributes: z
    .record(AttributeNameSchema, AttributeRuleSchema)
    .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES, `at most ${MAX_ATTRIBUTES} attributes`)
    .default({})
    .describe('Rules by attribute name, exactly as Entra sends it.'),
  validationMessage: MessageText.optional().describe(
    'The message above the highlighted fields (default: "Please correct the highlighted fields.").',
  ),
  remoteValidation: RemoteValidationSchema.optional(),
})
export type AttributeCollectionSubmitConfig = z.infer<typeof AttributeCollectionSubmitConfigSchema>

type Text = readonly [(string | number)[], LocalizedText]

function* blockTexts(rules: readonly BlockRule[]): Generator<Text> {
  for (const [i, rule] of rules.entries()) {
    yield [['block', i, 'message'], rule.message]
    if (rule.title !== undefined) yield [['block', i, 'title'], rule.title]
  }
}

/** attributeCollectionStart's user-facing texts, by path in the section. */
export function* startTexts(section: AttributeCollectionStartConfig): Generator<Text> {
  yield* blockTexts(section.block)
}

/** attributeCollectionSubmit's user-facing texts, by path in the section. */
export function* submitTexts(section: AttributeCollectionSubmitConfig): Generator<Text> {
  yield* blockTexts(section.block)
  for (const [name, rule] of Object.entries(section.attributes)) {
    if (rule.message !== undefined) yield [['attributes', name, 'message'], rule.message]
    for (const [check, text] of Object.entries(rule.messages ?? {}))
      if (text !== undefined) yield [['attributes', name, 'messages', check], text]
  }
  if (section.validationMessage !== undefined)
    yield [['validationMessage'], section.validationMessage]
  const onFailure = section.remoteValidation?.onFailure
  if (onFailure?.action === 'showBlockPage') {
    yield [['remoteValidation', 'onFailure', 'message'], onFailure.message]
    if (onFailure.title !== undefined)
      yield [['remoteValidation', 'onFailure', 'title'], onFailure.title]
  }
}
