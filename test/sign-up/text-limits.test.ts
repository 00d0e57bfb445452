// Finding 11 of the security and tolerance review: a configuration that loads must never produce an
// answer that fails the response schema. Every text of EXTENSION_CONFIG that Entra is sent is
// bounded by the answer field it ends up in.
import { BLOCK, PasswordSubmitResponseSchema } from '../../src/events/password-submit/schema.js'
import * as z from 'zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AttributeCollectionStartResponseSchema } from '../../src/events/attribute-collection-start/schema.js'
import { AttributeCollectionSubmitResponseSchema } from '../../src/events/attribute-collection-submit/schema.js'
import { extensionConfigJsonSchema } from '../../src/extension-config/json-schema.js'
import { loadConfig, ConfigError } from '../../src/config.js'
import { startTestEndpoint, writeExtensionConfig } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

interface JsonSchema {
  readonly type?: string
  readonly const?: string
  readonly maxLength?: number
  readonly properties?: Record<string, JsonSchema>
  readonly additionalProperties?: JsonSchema | boolean
  readonly items?: JsonSchema
  readonly prefixItems?: JsonSchema[]
  readonly anyOf?: JsonSchema[]
  readonly oneOf?: JsonSchema[]
}

/** A localized text as the config schema writes it: a string, or a map of strings by locale. */
function isLocalizedText(node: JsonSchema): boolean {
  const [text, map] = node.anyOf ?? []
  return (
    node.anyOf?.length === 2 &&
    text?.type === 'string' &&
    map?.type === 'object' &&
    typeof map.additionalProperties === 'object' &&
    map.additionalProperties.type === 'string'
  )
}

/** Every localized text in the config schema, by path ("a.b[].c", "*" for a record's values). */
function localizedTexts(node: JsonSchema, at = ''): { path: string; maxLength: number[] }[] {
  if (isLocalizedText(node)) {
    const [text, map] = node.anyOf as [JsonSchema, JsonSchema]
    const mapped = map.additionalProperties as JsonSchema
    return [{ path: at, maxLength: [text.maxLength ?? Infinity, mapped.maxLength ?? Infinity] }]
  }
  const found = []
  for (const [key, child] of Object.entries(node.properties ?? {}))
    found.push(...localizedTexts(child, at === '' ? key : `${at}.${key}`))
  if (typeof node.additionalProperties === 'object')
    found.push(...localizedTexts(node.additionalProperties, `${at}.*`))
  if (node.items !== undefined) found.push(...localizedTexts(node.items, `${at}[]`))
  for (const option of [...(node.anyOf ?? []), ...(node.oneOf ?? [])])
    found.push(...localizedTexts(option, at))
  return found
}

/** The maxLength of one field of one action in an answer schema. */
function answerLimit(schema: z.ZodType, action: string, field: string[]): number {
  const json = z.toJSONSchema(schema, { io: 'output' }) as JsonSchema
  const first = json.properties?.data?.properties?.actions?.prefixItems?.[0]
  const actions = first?.oneOf ?? first?.anyOf ?? []
  let node = actions.find((option) => option.properties?.['@odata.type']?.const === action)
  for (const key of field)
    node = key === '*' ? (node?.additionalProperties as JsonSchema) : node?.properties?.[key]
  if (node?.maxLength === undefined) throw new Error(`no maxLength at ${action} ${field.join('.')}`)
  return node.maxLength
}

const START = 'microsoft.graph.attributeCollectionStart'
const SUBMIT = 'microsoft.graph.attributeCollectionSubmit'
const startLimit = (action: string, ...field: string[]) =>
  answerLimit(AttributeCollectionStartResponseSchema, `${START}.${action}`, field)
const submitLimit = (action: string, ...field: string[]) =>
  answerLimit(AttributeCollectionSubmitResponseSchema, `${SUBMIT}.${action}`, field)

/** Where each configured text is sent: a new text in the config schema must be added here. */
const ANSWER_FIELD_OF: Record<string, () => number> = {
  'attributeCollectionStart.block[].title': () => startLimit('showBlockPage', 'title'),
  'attributeCollectionStart.block[].message': () => startLimit('showBlockPage', 'message'),
  'attributeCollectionSubmit.block[].title': () => submitLimit('showBlockPage', 'title'),
  'attributeCollectionSubmit.block[].message': () => submitLimit('showBlockPage', 'message'),
  'attributeCollectionSubmit.attributes.*.message': () =>
    submitLimit('showValidationError', 'attributeErrors', '*'),
  'attributeCollectionSubmit.attributes.*.messages.*': () =>
    submitLimit('showValidationError', 'attributeErrors', '*'),
  'attributeCollectionSubmit.validationMessage': () =>
    submitLimit('showValidationError', 'message'),
  'attributeCollectionSubmit.remoteValidation.onFailure.title': () =>
    submitLimit('showBlockPage', 'title'),
  'attributeCollectionSubmit.remoteValidation.onFailure.message': () =>
    submitLimit('showBlockPage', 'message'),
  'passwordSubmit.block.title': () => answerLimit(PasswordSubmitResponseSchema, BLOCK, ['title']),
  'passwordSubmit.block.message': () =>
    answerLimit(PasswordSubmitResponseSchema, BLOCK, ['message']),
  'passwordSubmit.locked.title': () => answerLimit(PasswordSubmitResponseSchema, BLOCK, ['title']),
  'passwordSubmit.locked.message': () =>
    answerLimit(PasswordSubmitResponseSchema, BLOCK, ['message']),
}
describe('finding 11: config text limits are the answer schema limits', () => {
  const texts = localizedTexts(JSON.parse(extensionConfigJsonSchema()) as JsonSchema)

  it('walks every localized text of the config schema (and finds the known ones)', () => {
    expect(texts.length).toBeGreaterThanOrEqual(Object.keys(ANSWER_FIELD_OF).length)
    const unknown = texts.map((t) => t.path).filter((path) => !(path in ANSWER_FIELD_OF))
    expect(unknown, 'texts with no known answer field: add them to ANSWER_FIELD_OF').toEqual([])
  })

  it('bounds every text, in every language, by its answer field', () => {
    const tooLong = texts.flatMap(({ path, maxLength }) => {
      const limit = ANSWER_FIELD_OF[path]?.() ?? 0
      return maxLength.some((max) => max > limit)
        ? [`${path}: ${maxLength.join('/')} > ${limit}`]
        : []
    })
    expect(tooLong).toEqual([])
  })

  it('refuses a 257-character block-page title at load, naming the field', () => {
    const path = writeExtensionConfig({
      attributeCollectionStart: { block: [{ title: 'T'.repeat(257), message: 'Closed.' }] },
    })
    let problems: readonly string[] = []
    try {
      loadConfig({ EXTENSION_CONFIG: path })
    } catch (err) {
      if (err instanceof ConfigError) problems = err.problems
      else throw err
    }
    expect(problems.join('\n')).toContain('attributeCollectionStart.block.0.title')
  })

  describe('a configuration with every text at its limit', () => {
    let issuer: TestIssuer
    let endpoint: Awaited<ReturnType<typeof startTestEndpoint>>
    const longest = (n: number) => 'é'.repeat(n)
    beforeAll(async () => {
      issuer = await startTestIssuer()
      endpoint = await startTestEndpoint(issuer, {
        EXTENSION_CONFIG: writeExtensionConfig({
          attributeCollectionStart: {
            block: [{ title: longest(256), message: { en: longest(1024), sv: longest(1024) } }],
          },
          attributeCollectionSubmit: {
            validationMessage: longest(1024),
            attributes: { givenName: { required: true, message: longest(1024) } },
          },
        }),
      })
    })
    afterAll(async () => {
      await endpoint.close()
      await issuer.close()
    })

    it('answers the block page and the validation error with 200, not 500', async () => {
      const start = await endpoint.post(
        'onAttributeCollectionStart',
        fixture('attribute-collection-start'),
      )
      expect(start.status, start.text).toBe(200)
      expect(start.json).toMatchObject({ data: { actions: [{ title: longest(256) }] } })
      const event = fixture('attribute-collection-submit')
      event.data.userSignUpInfo.attributes.givenName.value = ''
      const submit = await endpoint.post('onAttributeCollectionSubmit', event)
      expect(submit.status, submit.text).toBe(200)
      expect(submit.json).toMatchObject({
        data: {
          actions: [{ message: longest(1024), attributeErrors: { givenName: longest(1024) } }],
        },
      })
    })
  })
})
