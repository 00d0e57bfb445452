// One line per zod issue: where, then what. zod v4 leaves input values out of issues by default
// (no reportInput), so a line never carries a secret or a user's data.
import type * as z from 'zod'

/** `ENTRA_AUDIENCE: is required` (config) or `"data.tenantId": Too big…` (requests, quoted). */
export function describeIssue(
  issue: z.core.$ZodIssue,
  options: { quotePath?: boolean } = {},
): string {
  const path = issue.path.map(String).join('.')
  // A bad record key: zod says "Invalid key in record"; the key schema's own message says why.
  const message =
    (issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined) ?? issue.message
  if (path === '') return message
  return options.quotePath === true ? `"${path}": ${message}` : `${path}: ${message}`
}
