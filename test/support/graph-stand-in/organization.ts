// Graph v1.0's organization for the stand-in core: the one tenant, with its verified domains.
//   GET /v1.0/organization   $select
// The options may be a function, read on each call (a test that replaces its tenant).
import type { Organization, VerifiedDomain } from '@microsoft/microsoft-graph-types'
import { selection, type GraphResource } from './graph-answers.js'

export interface OrganizationOptions {
  readonly tenantId: string
  /** The tenant's domains; the first is the default (primary) one. None when not given. */
  readonly domains?: readonly string[]
  /** 'CIAM' (an External ID tenant) unless given. */
  readonly tenantType?: 'AAD' | 'CIAM'
  readonly displayName?: string
}

function organizationOf(options: OrganizationOptions) {
  return {
    id: options.tenantId,
    displayName: options.displayName ?? 'Contoso customers',
    tenantType: options.tenantType ?? 'CIAM',
    ...(options.domains === undefined
      ? {}
      : {
          verifiedDomains: options.domains.map(
            (name, i) =>
              ({
                name,
                isDefault: i === 0,
                isInitial: name.endsWith('.onmicrosoft.com'),
                type: 'Managed',
                capabilities: 'Email, OfficeCommunicationsOnline',
              }) satisfies VerifiedDomain,
          ),
        }),
  } satisfies Organization & { tenantType: string }
}

export function organizationResource(
  options: OrganizationOptions | (() => OrganizationOptions),
): GraphResource {
  const current = typeof options === 'function' ? options : () => options
  return {
    routes: [
      {
        method: 'GET',
        path: /^\/v1\.0\/organization$/,
        query: ['$select'],
        answer(call, _match, origin) {
          const select = selection(call.query)
          const entries = Object.entries(organizationOf(current())).filter(
            ([name]) => name === 'id' || select === undefined || select.includes(name),
          )
          return {
            status: 200,
            body: {
              '@odata.context': `${origin}/v1.0/$metadata#organization`,
              value: [Object.fromEntries(entries)],
            },
          }
        },
      },
    ],
  }
}
