// Display names of the custom authentication extensions for the insights report: from a --names
// JSON file ({ "<extension id>": "<name>" }), or from Graph
// (GET /v1.0/identity/customAuthenticationExtensions, contract §7; CustomAuthenticationExtension.Read.All
// or more). The report works without them: it then shows the IDs.
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { readLimited } from '../../src/outbound/fetch-json.js'

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

const ListSchema = z.object({
  value: z.array(z.object({ id: z.string().min(1).max(100), displayName: z.string().nullish() })),
  '@odata.nextLink': z.string().nullish(),
})

/**
 * Every extension's displayName, following at most `maxPages` nextLinks on Graph's own origin.
 * Throws an Error whose message says what Graph answered (never the token).
 */
export async function fetchExtensionNames(options: {
  readonly graphBaseUrl: string
  readonly getToken: () => Promise<string>
  readonly timeoutMs?: number
  readonly maxPages?: number
}): Promise<Map<string, string>> {
  const origin = new URL(options.graphBaseUrl).origin
  const names = new Map<string, string>()
  let url: string | undefined =
    `${options.graphBaseUrl.replace(/\/+$/, '')}/v1.0/identity/customAuthenticationExtensions?$select=id,displayName`
  for (let page = 0; url !== undefined && page < (options.maxPages ?? 10); page += 1) {
    const token = await options.getToken()
    let res: Response
    let text: string
    try {
      res = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        headers: { accept: 'application/json', authorization: `Bearer ${token}` },
      })
      text = await readLimited(res, 4 * 1024 * 1024, () => new Error('the answer was too large'))
    } catch (err) {
      throw new Error(
        err instanceof Error && err.message === 'the answer was too large'
          ? err.message
          : 'Graph could not be read',
        { cause: err },
      )
    }
    if (res.status !== 200) throw new Error(`Graph answered HTTP ${res.status}${graphCode(text)}`)
    let body: z.infer<typeof ListSchema>
    try {
      body = ListSchema.parse(JSON.parse(text))
    } catch {
      throw new Error('Graph answered an unexpected list')
    }
    for (const e of body.value)
      if (typeof e.displayName === 'string' && e.displayName.trim() !== '')
        names.set(e.id, e.displayName.trim().slice(0, 200))
    const next = body['@odata.nextLink'] ?? undefined
    url =
      next !== undefined && URL.canParse(next) && new URL(next).origin === origin ? next : undefined
  }
  return names
}

function graphCode(text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } } | null)?.error?.code
    return typeof code === 'string' && /^[\w.-]{1,100}$/.test(code) ? ` ${code}` : ''
  } catch {
    return ''
  }
}
