// The demo directory the configurations in config/examples/ run against, in one place: the
// fixture's user (test/fixtures/events/token-issuance-start.json) as the Graph stand-in knows
// them, with groups and a manager, and the employee API of config/examples/http-employee.json.
// Used by `npm run stand-ins` (serve-stand-ins.ts) and test/e2e/example-configs.test.ts.
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo } from 'node:net'
import { directoryRole, group, type DirectoryObject, type GraphStandIn } from './graph-server.js'

/** The fixture's user. */
export const DEMO_USER_ID = '7d3c6f2a-0b1e-4c55-9a0e-3f6b2d9e8a11'
export const DEMO_UPN = 'avery@example.org'
export const DEMO_MANAGER_ID = '0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f'
/** The directory extension config/examples/static-and-graph.json selects. */
export const COST_CENTER_EXTENSION = 'extension_0a1b2c3d4e5f40718293a4b5c6d7e8f9_costCenter'

/** The user's transitive memberships, in Graph's order: groups, and one directory role. The
 * app-… groups' object IDs are the ones config/examples/graph-groups.json maps to app roles. */
export const DEMO_MEMBERSHIPS: readonly DirectoryObject[] = [
  group('4e1b7c2a-5d3f-4a6b-8c9d-0e1f2a3b4c01', 'app-Readers'),
  group('4e1b7c2a-5d3f-4a6b-8c9d-0e1f2a3b4c02', 'Sales EMEA'),
  directoryRole('4e1b7c2a-5d3f-4a6b-8c9d-0e1f2a3b4c03', 'Global Reader'),
  group('4e1b7c2a-5d3f-4a6b-8c9d-0e1f2a3b4c04', 'app-Approvers'),
  group('4e1b7c2a-5d3f-4a6b-8c9d-0e1f2a3b4c05', 'All staff'),
  group('4e1b7c2a-5d3f-4a6b-8c9d-0e1f2a3b4c06', 'app-Admins'),
]

/** Seeds the user, their memberships and their manager. */
export function seedDemoDirectory(graph: GraphStandIn): void {
  graph.addUser({
    id: DEMO_MANAGER_ID,
    userPrincipalName: 'grace@example.org',
    displayName: 'Grace Hopper',
    employeeId: 'E-1',
  })
  graph.addUser(
    {
      id: DEMO_USER_ID,
      userPrincipalName: DEMO_UPN,
      displayName: 'Avery Lindqvist',
      givenName: 'Avery',
      surname: 'Lindqvist',
      mail: DEMO_UPN,
      jobTitle: 'Account Manager',
      department: 'Sales',
      employeeId: 'E-4711',
      [COST_CENTER_EXTENSION]: 'CC-100',
    },
    { transitiveMemberOf: DEMO_MEMBERSHIPS, manager: DEMO_MANAGER_ID },
  )
}

/** The port config/examples/http-employee.json names. */
export const EMPLOYEE_API_PORT = 7081
/** The employee API's key: what HR_API_KEY must hold. Demo data, not a secret. */
export const DEMO_HR_API_KEY = 'demo-hr-api-key-4711'

/** What GET /employees/{DEMO_USER_ID}?upn={DEMO_UPN} answers. */
export const DEMO_EMPLOYEE_RECORD = {
  employee: { id: 4711, costCenter: 'CC-100' },
  entitlements: [{ code: 'crm' }, { code: 'erp' }, { code: 'crm' }],
} as const

export interface EmployeeApiRequest {
  readonly method: string
  /** The path, decoded, without the query. */
  readonly path: string
  readonly query: URLSearchParams
  /** The x-api-key header as sent. */
  readonly apiKey: string | undefined
  readonly status: number
}

export interface EmployeeApiOptions {
  /** The key x-api-key must carry: DEMO_HR_API_KEY unless given. */
  readonly apiKey?: string
  /** Called with every request once answered. */
  readonly onRequest?: (request: EmployeeApiRequest) => void
}

/**
 * The employee API: `GET /employees/{id}?upn=…` with `x-api-key` answers DEMO_EMPLOYEE_RECORD for
 * the fixture's user (id and UPN both must match), 404 for anyone else, 401 without the key.
 */
export function employeeApiHandler(options: EmployeeApiOptions = {}): RequestListener {
  const apiKey = options.apiKey ?? DEMO_HR_API_KEY
  return (req: IncomingMessage, res: ServerResponse) => {
    req.resume() // GET: nothing to read
    const url = new URL(req.url ?? '/', 'http://employee-api.invalid')
    const sent = req.headers['x-api-key']
    const key = Array.isArray(sent) ? sent[0] : sent
    let path = url.pathname
    try {
      path = decodeURIComponent(url.pathname)
    } catch {
      // left as sent: it matches no employee
    }
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
      options.onRequest?.({
        method: req.method ?? '',
        path,
        query: url.searchParams,
        apiKey: key,
        status,
      })
    }

    const match = /^\/employees\/([^/]+)$/.exec(path)
    if (match === null) return answer(404, { error: 'not_found', message: 'no such route' })
    if (req.method !== 'GET') return answer(405, { error: 'method_not_allowed' })
    if (key !== apiKey) return answer(401, { error: 'unauthorized', message: 'x-api-key' })
    const upn = url.searchParams.get('upn')
    const known =
      match[1]?.toLowerCase() === DEMO_USER_ID && upn?.toLowerCase() === DEMO_UPN.toLowerCase()
    if (!known) return answer(404, { error: 'not_found', message: 'no such employee' })
    return answer(200, DEMO_EMPLOYEE_RECORD)
  }
}

export interface EmployeeApi {
  /** http://127.0.0.1:<port> */
  readonly origin: string
  readonly port: number
  /** Every request, answered, in order. */
  readonly requests: EmployeeApiRequest[]
  close(): Promise<void>
}

/** Serves employeeApiHandler on loopback: on `port` (0, an ephemeral one, unless given). */
export async function startEmployeeApi(
  options: EmployeeApiOptions & { readonly port?: number } = {},
): Promise<EmployeeApi> {
  const requests: EmployeeApiRequest[] = []
  const server = createServer(
    employeeApiHandler({
      ...options,
      onRequest: (request) => {
        requests.push(request)
        options.onRequest?.(request)
      },
    }),
  )
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close() {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
