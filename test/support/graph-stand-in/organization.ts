// Graph v1.0's organization for the stand-in core: the one tenant, with its verified domains.
//   GET /v1.0/organization   $select
import type { Organization, VerifiedDomain } from '@microsoft/microsoft-graph-types'
import { selection, type GraphResource } from './graph-answers.js'

export function organizationResource(options: {
  readonly tenantId: string
  /** The tenant's domains; the first is the default (primary) one. */
  readonly domains: readonly string[]
}): GraphResource {
  const organization = {
    id: options.tenantId,
    displayName: 'Contoso customers',
    tenantType: 'CIAM',
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
  } satisfies Organization & { tenantType: string }
  return {
    routes: [
      {
        method: 'GET',
        path: /^\/v1\.0\/organization$/,
        query: ['$select'],
        answer(call, _match, origin) {
          const select = selection(call.query)
          const entries = Object.entries(organization).filter(
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
