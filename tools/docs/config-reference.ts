// The EXTENSION_CONFIG reference of docs/extension-config.md, generated from the JSON Schema that
// z.toJSONSchema derives from the zod schema (src/extension-config/json-schema.ts): one table per
// top-level setting, one row per property path, with its type, bounds, default and description.
import { extensionConfigJsonSchema } from '../../src/extension-config/json-schema.js'

/** The subset of JSON Schema (draft 2020-12) that z.toJSONSchema emits for this config. */
interface Schema {
  readonly type?: string | readonly string[]
  readonly description?: string
  readonly default?: unknown
  readonly const?: unknown
  readonly enum?: readonly unknown[]
  readonly properties?: Readonly<Record<string, Schema>>
  readonly required?: readonly string[]
  readonly additionalProperties?: Schema | boolean
  readonly propertyNames?: Schema
  readonly items?: Schema
  readonly oneOf?: readonly Schema[]
  readonly anyOf?: readonly Schema[]
  readonly minimum?: number
  readonly maximum?: number
  readonly minLength?: number
  readonly maxLength?: number
  readonly minItems?: number
  readonly maxItems?: number
  readonly pattern?: string
  readonly format?: string
}

interface Row {
  readonly path: string
  readonly type: string
  readonly defaultText: string
  readonly description: string
}

const code = (value: unknown): string => `\`${JSON.stringify(value).replaceAll('|', '\\|')}\``

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

function range(min: number | undefined, max: number | undefined, unit: string): string {
  if (min === undefined && max === undefined) return ''
  if (min === undefined) return ` ≤ ${max}${unit}`
  if (max === undefined) return ` ≥ ${min}${unit}`
  return ` ${min}–${max}${unit}`
}

/** "integer 1–2000", "string ≤ 2048 chars", "one of `a` `b`", "array ≤ 50 of string"… */
function typeText(schema: Schema): string {
  if (schema.const !== undefined) return code(schema.const)
  if (schema.enum !== undefined) return `one of ${schema.enum.map(code).join(' ')}`
  const variants = schema.oneOf ?? schema.anyOf
  if (variants !== undefined) return [...new Set(variants.map(typeText))].join(' or ')
  const type = typeof schema.type === 'string' ? schema.type : (schema.type?.join(' or ') ?? 'any')
  switch (type) {
    case 'integer':
    case 'number':
      return `${type}${range(schema.minimum, schema.maximum, '')}`
    case 'string': {
      const format = schema.format === undefined ? '' : ` (${schema.format})`
      return `string${format}${range(schema.minLength, schema.maxLength, ' chars')}`
    }
    case 'array':
      return `array${range(schema.minItems, schema.maxItems, '')} of ${schema.items === undefined ? 'any' : typeText(schema.items)}`
    case 'object':
      return schema.properties === undefined && typeof schema.additionalProperties === 'object'
        ? `map of ${typeText(schema.additionalProperties)}`
        : 'object'
    default:
      return type
  }
}

/** The member that tells the variants of a oneOf apart (`type`, `provider`…), if there is one. */
function discriminator(variants: readonly Schema[]): string | undefined {
  const first = variants[0]?.properties
  if (first === undefined) return undefined
  return Object.keys(first).find((key) =>
    variants.every((variant) => variant.properties?.[key]?.const !== undefined),
  )
}

function rowsOf(schema: Schema, path: string, required: boolean, rows: Row[]): void {
  const defaultText =
    schema.default === undefined
      ? required
        ? 'required'
        : ''
      : typeof schema.default === 'object'
        ? ''
        : code(schema.default)
  rows.push({ path, type: typeText(schema), defaultText, description: schema.description ?? '' })

  const variants = schema.oneOf ?? schema.anyOf
  if (variants !== undefined) {
    const tag = discriminator(variants)
    variants.forEach((variant, index) => {
      const label =
        tag === undefined
          ? `(${index + 1})`
          : `(${tag} ${code(variant.properties?.[tag]?.const).slice(1, -1)})`
      childrenOf(variant, `${path} ${label}`, rows, tag)
    })
    return
  }
  childrenOf(schema, path, rows)
}

function childrenOf(schema: Schema, path: string, rows: Row[], skip?: string): void {
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (name === skip) continue
    rowsOf(child, `${path}.${name}`, schema.required?.includes(name) ?? false, rows)
  }
  const extra = schema.additionalProperties
  if (typeof extra === 'object' && (extra.properties ?? extra.oneOf ?? extra.anyOf) !== undefined)
    rowsOf(extra, `${path}.<name>`, false, rows)
  const items = schema.items
  if (items !== undefined && (items.properties ?? items.oneOf ?? items.anyOf) !== undefined)
    rowsOf(items, `${path}[]`, false, rows)
}

/** A section per top-level setting of EXTENSION_CONFIG, each with its table. */
export function extensionConfigReference(
  schema: Schema = JSON.parse(extensionConfigJsonSchema()) as Schema,
): string {
  const sections: string[] = []
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (name === '$schema') continue
    const rows: Row[] = []
    rowsOf(child, name, schema.required?.includes(name) ?? false, rows)
    const table = rows.map(
      (row) =>
        `| \`${cell(row.path)}\` | ${cell(row.type)} | ${cell(row.defaultText)} | ${cell(row.description)} |`,
    )
    sections.push(
      [
        `### \`${name}\``,
        '',
        '| path | type | default | meaning |',
        '| --- | --- | --- | --- |',
        ...table,
      ].join('\n'),
    )
  }
  return sections.join('\n\n')
}
