// Transforms from a source's value to a claim value, applied in order. Claims end as a string or
// an array of strings (contract §4): numbers and booleans become strings, objects and nulls are
// dropped, and an empty result counts as absent (the claim's default, or no claim).
import * as z from 'zod'

/** Bounds the config file and the per-call lookup; a tenant's role groups fit many times over. */
export const MAX_MAP_ENTRIES = 500

const MapSchema = z
  .record(z.string().min(1).max(256), z.string().min(1).max(256)) // zod drops a "__proto__" key
  .refine((map) => Object.keys(map).length <= MAX_MAP_ENTRIES, `at most ${MAX_MAP_ENTRIES} entries`)
  .describe(
    'Replaces each value found in the map by its entry and drops every other value (exact, case-sensitive match). Map group object IDs to role names ({ "<group object id>": "Admin" }), never group display names: names are not unique and by default any user can create a group, so whoever creates "app-Admins" would get its role.',
  )

export const TransformSchema = z.union([
  z.enum(['toString', 'lowercase', 'uppercase', 'first', 'last', 'unique']),
  z.strictObject({ join: z.string().max(16) }),
  z.strictObject({ split: z.string().min(1).max(16) }),
  z.strictObject({ prefix: z.string().max(256) }),
  z.strictObject({ filterPrefix: z.string().min(1).max(256) }),
  z.strictObject({ removePrefix: z.string().min(1).max(256) }),
  z.strictObject({ pick: z.number().int().min(-1000).max(1000) }),
  z.strictObject({ map: MapSchema }),
])
export type Transform = z.infer<typeof TransformSchema>

type Value = unknown
const mapItems = (value: Value, fn: (item: Value) => Value): Value =>
  Array.isArray(value) ? value.map(fn) : fn(value)
const mapStrings = (value: Value, fn: (text: string) => Value): Value =>
  mapItems(value, (item) => (typeof item === 'string' ? fn(item) : item))
const scalarText = (item: Value): Value =>
  typeof item === 'number' || typeof item === 'boolean' ? String(item) : item

function compileTransform(transform: Transform): (value: Value) => Value {
  if (typeof transform === 'string') {
    switch (transform) {
      case 'toString':
        return (value) => mapItems(value, scalarText)
      case 'lowercase':
        return (value) => mapStrings(value, (text) => text.toLowerCase())
      case 'uppercase':
        return (value) => mapStrings(value, (text) => text.toUpperCase())
      case 'first':
        return (value: Value): Value => (Array.isArray(value) ? (value as unknown[])[0] : value)
      case 'last':
        return (value: Value): Value => (Array.isArray(value) ? (value as unknown[]).at(-1) : value)
      case 'unique':
        return (value) => (Array.isArray(value) ? [...new Set(value)] : value)
    }
  }
  if ('join' in transform) {
    const separator = transform.join
    return (value) =>
      Array.isArray(value)
        ? value
            .map(scalarText)
            .filter((i) => typeof i === 'string')
            .join(separator)
        : value
  }
  if ('split' in transform) {
    const separator = transform.split
    return (value) =>
      typeof value === 'string'
        ? value
            .split(separator)
            .map((item) => item.trim())
            .filter((item) => item !== '')
        : value
  }
  if ('prefix' in transform) {
    const prefix = transform.prefix
    return (value) => mapStrings(mapItems(value, scalarText), (text) => prefix + text)
  }
  if ('filterPrefix' in transform) {
    const prefix = transform.filterPrefix
    return (value) =>
      Array.isArray(value)
        ? value.filter((item) => typeof item === 'string' && item.startsWith(prefix))
        : typeof value === 'string' && value.startsWith(prefix)
          ? value
          : undefined
  }
  if ('removePrefix' in transform) {
    const prefix = transform.removePrefix
    return (value) =>
      mapStrings(value, (text) => (text.startsWith(prefix) ? text.slice(prefix.length) : text))
  }
  if ('map' in transform) {
    // A Map, not the parsed object: a value such as "constructor" must not find Object's own.
    const entries = new Map(Object.entries(transform.map))
    const lookup = (item: Value): Value => {
      const text = scalarText(item)
      return typeof text === 'string' ? entries.get(text) : undefined
    }
    return (value) =>
      Array.isArray(value) ? value.map(lookup).filter((item) => item !== undefined) : lookup(value)
  }
  const index = transform.pick
  return (value) => {
    if (!Array.isArray(value)) return value
    const items = value as unknown[]
    return items.at(index)
  }
}

/** A string, an array of strings, or undefined for "no value". */
export function toClaimValue(value: Value): string | string[] | undefined {
  if (Array.isArray(value)) {
    const items = value
      .map(scalarText)
      .filter((item): item is string => typeof item === 'string' && item !== '')
    return items.length === 0 ? undefined : items
  }
  const text = scalarText(value)
  return typeof text === 'string' && text !== '' ? text : undefined
}

export function compileTransforms(transforms: readonly Transform[]): (value: Value) => Value {
  const steps = transforms.map(compileTransform)
  return (value) => steps.reduce((current, step) => step(current), value)
}
