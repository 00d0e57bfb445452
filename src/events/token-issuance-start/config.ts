// EXTENSION_CONFIG's tokenIssuanceStart section: claims, static, from the request or from data
// sources. Its checks that span claims and sources run here, on the section.
import * as z from 'zod'
import { pathProblem } from '../../claims/path.js'
import { TransformSchema } from '../../claims/transforms.js'
import { SOURCE_NAME, SourcesSchema } from '../../extension-config/sources.js'
import { maxUtf8Bytes, REQUEST_FIELD_NAMES } from './request-fields.js'
import { MAX_CLAIM_VALUES, MAX_CLAIMS, MAX_CLAIMS_BYTES } from './schema.js'

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

export const TokenIssuanceStartConfigSchema = z
  .strictObject({
    sources: SourcesSchema,
    claims: z
      .record(ClaimNameSchema, ClaimRuleSchema)
      .refine((claims) => Object.keys(claims).length <= MAX_CLAIMS, `at most ${MAX_CLAIMS} claims`)
      .default({})
      .describe('Claims returned for every token, by claim name (case-sensitive).'),
  })
  .superRefine((section, ctx) => {
    for (const [name, rule] of Object.entries(section.claims)) {
      if (rule.source !== undefined && !Object.hasOwn(section.sources, rule.source))
        ctx.addIssue({
          code: 'custom',
          path: ['claims', name, 'source'],
          message: `no source named "${rule.source}" in tokenIssuanceStart.sources`,
        })
    }
    const worst = worstCaseClaimsBytes(section.claims)
    if (worst > MAX_CLAIMS_BYTES) {
      ctx.addIssue({
        code: 'custom',
        path: ['claims'],
        message: `the configured claims can reach ${worst} bytes, over Entra's limit of ${MAX_CLAIMS_BYTES} (error 1003025); remove claims or shorten values`,
      })
    }
  })
export type TokenIssuanceStartConfig = z.infer<typeof TokenIssuanceStartConfigSchema>

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
