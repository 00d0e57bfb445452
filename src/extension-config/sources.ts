// EXTENSION_CONFIG tokenIssuanceStart.sources: where claims come from besides the request.
// Each source is named; claims refer to it by name with a path into its answer. Sources run
// concurrently under the request deadline, each with its own timeout, failure policy and cache.
import * as z from 'zod'
import { REQUEST_FIELD_NAMES } from '../events/token-issuance-start/request-fields.js'
import { isSecureUrl } from '../secure-url.js'
import { RemoteAuthSchema } from './sign-up.js'

export const SOURCE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

const CacheSchema = z
  .strictObject({
    ttlSeconds: z.number().int().min(1).max(86_400).describe('How long an answer is fresh.'),
    maxEntries: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(10_000)
      .describe('Least recently used answers are evicted beyond this.'),
    staleOnErrorSeconds: z
      .number()
      .int()
      .min(0)
      .max(604_800)
      .default(0)
      .describe('When the source fails, an answer this much past its TTL may still be used.'),
  })
  .describe('Per-user cache of the answers (in memory, per instance).')
export type SourceCache = z.infer<typeof CacheSchema>

const common = {
  timeoutMs: z
    .number()
    .int()
    .min(20)
    .max(1800)
    .default(500)
    .describe('Its own timeout; the request deadline (REQUEST_BUDGET_MS) caps it.'),
  policy: z
    .enum(['required', 'optional'])
    .default('optional')
    .describe(
      'required: a failure fails the call (502/504, no token); optional: its claims are left out or take their defaults.',
    ),
  cache: CacheSchema.optional(),
}

export const GRAPH_QUERIES = ['user', 'memberOf', 'transitiveMemberOf', 'manager'] as const
export type GraphQuery = (typeof GRAPH_QUERIES)[number]

const GraphSourceSchema = z
  .strictObject({
    type: z.literal('graph'),
    query: z
      .enum(GRAPH_QUERIES)
      .describe(
        'user: /users/{id}; memberOf / transitiveMemberOf: the groups (paged, capped by maxItems); manager: /users/{id}/manager.',
      ),
    select: z
      .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,127}$/, 'must be a property name'))
      .max(50)
      .optional()
      .describe('$select: the properties to read (directory extensions included).'),
    maxItems: z
      .number()
      .int()
      .min(1)
      .max(2000)
      .default(100)
      .describe('memberOf / transitiveMemberOf: stop reading pages after this many objects.'),
    groupsOnly: z
      .boolean()
      .default(true)
      .describe('memberOf / transitiveMemberOf: keep groups only (not directory roles or units).'),
    ...common,
  })
  .describe('Microsoft Graph, as the Function App (managed identity or AZURE_* credentials).')

/** "{user.id}" and the other request fields of tokenIssuanceStart claims. */
const PLACEHOLDER = /\{([A-Za-z.]+)\}/g

function placeholderProblem(template: string): string | undefined {
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!(REQUEST_FIELD_NAMES as readonly string[]).includes(name ?? ''))
      return `unknown placeholder {${name}}; use a request field such as {user.id}`
  }
  return undefined
}

const TemplateSchema = z
  .string()
  .max(2048)
  .superRefine((template, ctx) => {
    const problem = placeholderProblem(template)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
  })

/**
 * Whether a placeholder sits before the path (scheme, user, host, port) or in the fragment: there
 * a request value would choose where the request, and its API key or token, goes.
 */
function placeholderOutsidePathOrQuery(url: string): boolean {
  const scheme = url.indexOf('://')
  const authorityEnd = scheme === -1 ? -1 : url.slice(scheme + 3).search(/[/?#]/)
  const pathStart = authorityEnd === -1 ? url.length : scheme + 3 + authorityEnd
  const fragment = url.indexOf('#')
  for (const match of url.matchAll(PLACEHOLDER))
    if (match.index < pathStart || (fragment !== -1 && match.index > fragment)) return true
  return false
}

const HttpSourceSchema = z
  .strictObject({
    type: z.literal('http'),
    method: z.enum(['GET', 'POST']).default('GET'),
    url: TemplateSchema.superRefine((url, ctx) => {
      if (placeholderOutsidePathOrQuery(url))
        ctx.addIssue({
          code: 'custom',
          message:
            'placeholders are allowed only in the path and query, not in the scheme, user, host or port',
        })
      else if (!isSecureUrl(url.replaceAll(PLACEHOLDER, 'x')))
        ctx.addIssue({
          code: 'custom',
          message: 'must be an https URL (http only for loopback hosts)',
        })
    }).describe(
      'Placeholders such as {user.id} are replaced with URL-encoded request values, in the path and the query only. A value that is "." or "..", or holds "/" or "\\", cannot fill a path segment: the source fails instead.',
    ),
    body: z
      .record(z.string().max(128), TemplateSchema)
      .optional()
      .describe('POST only: a JSON object whose string values may hold placeholders.'),
    auth: RemoteAuthSchema.optional(),
    ...common,
  })
  .refine((source) => source.body === undefined || source.method === 'POST', {
    message: '"body" goes with "method": "POST"',
    path: ['body'],
  })
  .describe("The customer's own HTTPS JSON API.")

export const SourceSchema = z.discriminatedUnion('type', [GraphSourceSchema, HttpSourceSchema])
export type SourceConfig = z.infer<typeof SourceSchema>
export type GraphSourceConfig = z.infer<typeof GraphSourceSchema>
export type HttpSourceConfig = z.infer<typeof HttpSourceSchema>

export const SourcesSchema = z
  .record(z.string().regex(SOURCE_NAME, 'source names are letters, digits, _ and -'), SourceSchema)
  .refine((sources) => Object.keys(sources).length <= 20, 'at most 20 sources')
  .default({})
  .describe('Named data sources that claims can take values from ("source": "<name>").')

export { PLACEHOLDER }
