// The product's configuration file (EXTENSION_CONFIG), as one zod schema. Its JSON Schema is
// generated from this (npm run schema) and shipped in config/ so that editors complete it.
// Strict objects: in an operator's file an unknown key is a typo, and a typo must not pass.
import * as z from 'zod'
import {
  MAX_CLAIM_VALUES,
  MAX_CLAIMS,
  MAX_CLAIMS_BYTES,
} from '../events/token-issuance-start/schema.js'
import { maxUtf8Bytes, REQUEST_FIELD_NAMES } from '../events/token-issuance-start/request-fields.js'
import { pathProblem } from '../claims/path.js'
import { TransformSchema } from '../claims/transforms.js'
import { LocaleSchema, missingDefault, type LocalizedText } from './localized-text.js'
import { OtpSendConfigSchema } from './otp-send.js'
import { SOURCE_NAME, SourcesSchema } from './sources.js'
import {
  AttributeCollectionStartConfigSchema,
  AttributeCollectionSubmitConfigSchema,
  type BlockRule,
} from './sign-up.js'

/** Printable ASCII without spaces: the name must match the claims mapping policy's ID exactly. */
const ClaimNameSchema = z
  .string()
  .regex(/^[!-~]{1,256}$/, 'claim names are 1-256 printable ASCII characters without spaces')
  .refine((name) => name !== '__proto__', 'reserved name')

const ClaimValueSchema = z.union([
  z.string().max(MAX_CLAIMS_BYTES),
  z.array(z.string().max(MAX_CLAIMS_BYTES)).max(MAX_CLAIM_VALUES),
])

const ClaimRuleSchema = z
  .strictObject({
    value: ClaimValueSchema.optional().describe('A static value: a string or an array of strings.'),
    from: z
      .enum(REQUEST_FIELD_NAMES)
      .optional()
      .describe('Take the value from this field of the request.'),
    source: z
      .string()
      .regex(SOURCE_NAME)
      .optional()
      .describe('Take the value from this data source (see "sources"), at "path".'),
    path: z
      .string()
      .superRefine((path, ctx) => {
        const problem = pathProblem(path)
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `path ${problem}` })
      })
      .optional()
      .describe(
        'With "source": a JMESPath expression (as in az --query) for the value in its answer, e.g. "value[].displayName". Keys that are not plain identifiers are quoted: "\\"@odata.type\\"".',
      ),
    transforms: z
      .array(TransformSchema)
      .max(10)
      .optional()
      .describe(
        'With "source": applied in order (toString, lowercase, join, split, prefix, filterPrefix, removePrefix, pick, first, last, unique, map). For roles from groups, map group object IDs ({ "map": { "<group object id>": "Admin" } }), never display names: group names are not unique and by default users can create groups.',
      ),
    default: ClaimValueSchema.optional().describe(
      'With "from" or "source": the value when there is none (else the claim is left out).',
    ),
  })
  .refine(
    (rule) =>
      [rule.value, rule.from, rule.source].filter((part) => part !== undefined).length === 1,
    { message: 'set exactly one of "value", "from" or "source"' },
  )
  .refine((rule) => rule.default === undefined || rule.value === undefined, {
    message: '"default" goes with "from" or "source"',
    path: ['default'],
  })
  .refine(
    (rule) =>
      rule.source !== undefined || (rule.path === undefined && rule.transforms === undefined),
    { message: '"path" and "transforms" go with "source"', path: ['path'] },
  )
export type ClaimRule = z.infer<typeof ClaimRuleSchema>

const TokenIssuanceStartConfigSchema = z.strictObject({
  sources: SourcesSchema,
  claims: z
    .record(ClaimNameSchema, ClaimRuleSchema)
    .refine((claims) => Object.keys(claims).length <= MAX_CLAIMS, `at most ${MAX_CLAIMS} claims`)
    .default({})
    .describe('Claims returned for every token, by claim name (case-sensitive).'),
})

export const ExtensionConfigSchema = z
  .strictObject({
    $schema: z.string().max(2048).optional(),
    defaultLocale: LocaleSchema.default('en').describe(
      "The language of texts when the request's locale has none; every text map must include it.",
    ),
    tokenIssuanceStart: TokenIssuanceStartConfigSchema.default({
      sources: {},
      claims: {},
    }).describe('OnTokenIssuanceStart (custom claims provider).'),
    attributeCollectionStart: AttributeCollectionStartConfigSchema.default({
      prefill: {},
      block: [],
    }).describe('OnAttributeCollectionStart (External ID sign-up, before the attribute page).'),
    attributeCollectionSubmit: AttributeCollectionSubmitConfigSchema.default({
      block: [],
      attributes: {},
    }).describe('OnAttributeCollectionSubmit (External ID sign-up, after the attribute page).'),
    otpSend: OtpSendConfigSchema.default({
      locales: ['en', 'sv', 'de', 'fr'],
      expiryMinutes: 10,
      timeoutMs: 1500,
      duplicateTtlSeconds: 600,
      rateLimit: { maxPerRecipient: 5, windowSeconds: 600 },
    }).describe('OnOtpSend (custom e-mail OTP provider).'),
  })
  .superRefine((config, ctx) => {
    const { sources, claims } = config.tokenIssuanceStart
    for (const [name, rule] of Object.entries(claims)) {
      if (rule.source !== undefined && !Object.hasOwn(sources, rule.source))
        ctx.addIssue({
          code: 'custom',
          path: ['tokenIssuanceStart', 'claims', name, 'source'],
          message: `no source named "${rule.source}" in tokenIssuanceStart.sources`,
        })
    }
    for (const [path, text] of localizedTexts(config)) {
      const problem = missingDefault(text, config.defaultLocale)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path, message: problem })
    }
    const worst = worstCaseClaimsBytes(config.tokenIssuanceStart.claims)
    if (worst > MAX_CLAIMS_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenIssuanceStart', 'claims'],
        message: `the configured claims can reach ${worst} bytes, over Entra's limit of ${MAX_CLAIMS_BYTES} (error 1003025); remove claims or shorten values`,
      })
    }
  })
export type ExtensionConfig = z.infer<typeof ExtensionConfigSchema>

const bytes = (value: string | readonly string[]) =>
  typeof value === 'string'
    ? Buffer.byteLength(value)
    : value.reduce((sum, item) => sum + Buffer.byteLength(item), 0)

/**
 * The largest answer the static and request-field rules can produce, with every request field at
 * its schema bound. Claims from sources have no bound known at start-up: they are checked on every
 * call instead (see events/token-issuance-start/handler.ts).
 */
export function worstCaseClaimsBytes(claims: Readonly<Record<string, ClaimRule>>): number {
  let total = 0
  for (const [name, rule] of Object.entries(claims)) {
    if (rule.source !== undefined) continue
    const fromRequest = rule.from === undefined ? 0 : maxUtf8Bytes(rule.from)
    const configured = rule.value ?? rule.default
    total += Buffer.byteLength(name) + Math.max(fromRequest, configured ? bytes(configured) : 0)
  }
  return total
}

/** Every user-facing text in the configuration, with its path (for the default-locale check). */
function* localizedTexts(config: ExtensionConfig): Generator<[(string | number)[], LocalizedText]> {
  function* blockTexts(section: string, rules: readonly BlockRule[]) {
    for (const [i, rule] of rules.entries()) {
      yield [[section, 'block', i, 'message'], rule.message] as [(string | number)[], LocalizedText]
      if (rule.title !== undefined)
        yield [[section, 'block', i, 'title'], rule.title] as [(string | number)[], LocalizedText]
    }
  }
  yield* blockTexts('attributeCollectionStart', config.attributeCollectionStart.block)
  const submit = config.attributeCollectionSubmit
  yield* blockTexts('attributeCollectionSubmit', submit.block)
  for (const [name, rule] of Object.entries(submit.attributes)) {
    const at = ['attributeCollectionSubmit', 'attributes', name]
    if (rule.message !== undefined) yield [[...at, 'message'], rule.message]
    for (const [check, text] of Object.entries(rule.messages ?? {}))
      if (text !== undefined) yield [[...at, 'messages', check], text]
  }
  if (submit.validationMessage !== undefined)
    yield [['attributeCollectionSubmit', 'validationMessage'], submit.validationMessage]
  const onFailure = submit.remoteValidation?.onFailure
  if (onFailure?.action === 'showBlockPage') {
    const at = ['attributeCollectionSubmit', 'remoteValidation', 'onFailure']
    yield [[...at, 'message'], onFailure.message]
    if (onFailure.title !== undefined) yield [[...at, 'title'], onFailure.title]
  }
}
