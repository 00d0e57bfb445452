// Graph's sign-in logs for the stand-in core (contract §8):
//   GET /beta/auditLogs/signIns   $filter on createdDateTime (ge / lt, joined by "and"), $top
//                                 (1-1000), newest first, paged by $skiptoken
// Another $filter answers 400.
import { GraphStandInError, page, type GraphResource } from './graph-answers.js'

export interface SignInRecord {
  readonly id: string
  readonly createdDateTime: string
  readonly appliedEventListeners?: unknown
  readonly [property: string]: unknown
}

export interface SignInLogsResource extends GraphResource {
  signIns: SignInRecord[]
  /** Page size without $top. */
  pageSize: number
}

const CLAUSE = /^createdDateTime (ge|lt) (\d{4}-\d{2}-\d{2}T[\d:.]+Z)$/

/** The createdDateTime bounds of a $filter like Graph's: clauses joined by " and ". */
function parseFilter(filter: string | null): { ge?: number; lt?: number } {
  if (filter === null) return {}
  const bounds: { ge?: number; lt?: number } = {}
  for (const clause of filter.split(' and ')) {
    const match = CLAUSE.exec(clause.trim())
    if (match === null) throw new GraphStandInError(400, 'BadRequest', 'Invalid filter clause.')
    bounds[match[1] as 'ge' | 'lt'] = Date.parse(match[2] ?? '')
  }
  return bounds
}

export function signInLogsResource(
  options: {
    readonly signIns?: readonly SignInRecord[]
    readonly pageSize?: number
    /** Where the sign-ins are read from on each call, instead of `signIns` (a shared tenant). */
    readonly source?: () => readonly SignInRecord[]
  } = {},
): SignInLogsResource {
  const resource: SignInLogsResource = {
    signIns: [...(options.signIns ?? [])],
    pageSize: options.pageSize ?? 100,
    routes: [
      {
        method: 'GET',
        path: /^\/beta\/auditLogs\/signIns$/,
        query: ['$filter', '$top', '$skiptoken'],
        answer(call, _match, origin) {
          const { ge, lt } = parseFilter(call.query.get('$filter'))
          const listed = (options.source?.() ?? resource.signIns)
            .filter((s) => {
              const at = Date.parse(s.createdDateTime)
              return (ge === undefined || at >= ge) && (lt === undefined || at < lt)
            })
            .sort((a, b) => Date.parse(b.createdDateTime) - Date.parse(a.createdDateTime))
          return page(call, origin, listed, {
            pageSize: resource.pageSize,
            context: 'auditLogs/signIns',
            maxTop: 1000,
          })
        },
      },
    ],
  }
  return resource
}
