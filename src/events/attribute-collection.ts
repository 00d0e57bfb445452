// Shared by OnAttributeCollectionStart and OnAttributeCollectionSubmit (contract §5): the
// userSignUpInfo they both carry, and the value shapes their answers may use.
import * as z from 'zod'
import { nullAsAbsent } from './common.js'

/**
 * Names our configuration and answers use: built-in names (givenName) and custom ones
 * (extension_<appId>_<name>); also excludes __proto__. Inbound names are not held to it: a name
 * outside it is accepted and simply matches no rule (a 400 would end the user's sign-up).
 */
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,255}$/
const MAX_INBOUND_NAME_LENGTH = 1024
export const MAX_ATTRIBUTES = 100

/** Contract §9.1: some payloads spell it `@odata.Type`. Read either, always write `@odata.type`. */
function normaliseODataTypeKey(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input
  if (!('@odata.Type' in input) || '@odata.type' in input) return input
  const { '@odata.Type': odataType, ...rest } = input as Record<string, unknown>
  return { '@odata.type': odataType, ...rest }
}

// Multi-value attributes arrive as one comma-delimited string; an older revision of the docs
// showed an array (contract §5): accept both.
const AttributeValueSchema = z.union([
  z.string().max(4096),
  // int64DirectoryAttributeValue. Any JSON number: one beyond 2^53 arrives here as the string of
  // its digits (src/http/handle-request.ts parses such bodies without rounding).
  z.number(),
  z.boolean(),
  z.array(z.string().max(1024)).max(100),
])

const AttributeSchema = z.preprocess(
  normaliseODataTypeKey,
  z.object({
    '@odata.type': z.string().max(128).nullish(),
    value: AttributeValueSchema.nullish(), // on Start most attributes have no value yet
    attributeType: z.string().max(64).nullish(),
  }),
)

const IdentitySchema = z.object({
  signInType: z.string().max(64).nullish(),
  issuer: z.string().max(256).nullish(),
  issuerAssignedId: z.string().max(320).nullish(), // an e-mail address: never logged
})

type Attribute = z.infer<typeof AttributeSchema>

export const UserSignUpInfoSchema = z.object({
  attributes: nullAsAbsent(
    z
      .record(
        z
          .string()
          .min(1, 'attribute names are not empty')
          .max(
            MAX_INBOUND_NAME_LENGTH,
            `attribute names are at most ${MAX_INBOUND_NAME_LENGTH} characters`,
          ),
        AttributeSchema.nullable(),
      )
      .refine(
        (attributes) => Object.keys(attributes).length <= MAX_ATTRIBUTES,
        `at most ${MAX_ATTRIBUTES} attributes`,
      )
      // An attribute sent as null is read as one not sent.
      .transform((attributes) => {
        const present: Record<string, Attribute> = {}
        for (const [name, attribute] of Object.entries(attributes))
          if (attribute !== null) present[name] = attribute
        return present
      })
      .default({}),
  ),
  identities: nullAsAbsent(
    z
      .array(IdentitySchema.nullable())
      .max(20)
      .transform((identities) => identities.filter((identity) => identity !== null))
      .default([]),
  ),
})

/** Values our answers may set: the request's types (contract §5: int64, boolean, string). */
export const OutboundAttributeValueSchema = z.union([
  z.string().max(4096),
  z.number().int(),
  z.boolean(),
])

export const OutboundAttributesSchema = z
  .record(z.string().regex(ATTRIBUTE_NAME_PATTERN), OutboundAttributeValueSchema)
  .refine((attributes) => Object.keys(attributes).length <= MAX_ATTRIBUTES)

/**
 * The longest texts our answers may carry. EXTENSION_CONFIG's texts are bounded by these same
 * numbers, so a configuration that loads cannot produce an answer the response schema refuses.
 */
export const ANSWER_TEXT_MAX = {
  /** showBlockPage.title */
  title: 256,
  /** showBlockPage.message and showValidationError.message */
  message: 1024,
  /** one showValidationError.attributeErrors entry */
  attributeError: 1024,
} as const

export const BlockPageFields = {
  title: z.string().min(1).max(ANSWER_TEXT_MAX.title).optional(), // contract §5: optional
  message: z.string().min(1).max(ANSWER_TEXT_MAX.message),
}
