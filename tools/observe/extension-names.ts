// Display names of the custom authentication extensions for the insights report: from a --names
// JSON file ({ "<extension id>": "<name>" }), or from Graph
// (GET /v1.0/identity/customAuthenticationExtensions?$select=id,displayName, contract §7;
// CustomAuthenticationExtension.Read.All or more) through the shared client in tools/graph/. The
// report works without them: it then shows the IDs.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import type { GraphClient } from '../graph/client.js'

const NamesFileSchema = z.record(z.string().min(1).max(100), z.string().trim().min(1).max(200))

/** The ID → name map of a --names file, or what is wrong with it. */
export function readNamesFile(path: string): Map<string, string> | string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return `--names: cannot read ${path}`
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    return `--names: ${path} is not valid JSON (${err instanceof Error ? err.message : ''})`
  }
  const parsed = NamesFileSchema.safeParse(json)
  if (!parsed.success)
    return `--names: ${path} must be one JSON object of extension ID → name (strings, names up to 200 characters)`
  return new Map(Object.entries(parsed.data))
}

const ExtensionSchema = z.object({
  id: z.string().min(1).max(100),
  displayName: z.string().nullish(),
})

/**
 * Every extension's displayName, through the operator tools' Graph client (its paging, its cap on
 * pages, Retry-After on throttling, and its GraphError when Graph refuses).
 */
export async function fetchExtensionNames(graph: GraphClient): Promise<Map<string, string>> {
  const names = new Map<string, string>()
  const extensions = await graph.list<unknown>('/v1.0/identity/customAuthenticationExtensions', {
    select: ['id', 'displayName'],
  })
  for (const item of extensions) {
    const e = ExtensionSchema.safeParse(item)
    if (e.success && typeof e.data.displayName === 'string' && e.data.displayName.trim() !== '')
      names.set(e.data.id, e.data.displayName.trim().slice(0, 200))
  }
  return names
}
