// APPLICATIONINSIGHTS_AUTHENTICATION_STRING: Entra-authenticated ingestion into Application Insights
// (an Application Insights resource with local authentication disabled accepts nothing else). The
// Functions host reads it for its own logs; the endpoint reads it to give Azure Monitor's exporter
// the same managed identity. Its two forms: `Authorization=AAD` (the system-assigned identity) and
// `Authorization=AAD;ClientId=<guid>` (a user-assigned one).
import { GUID_PATTERN } from '../events/common.js'

export const AUTHENTICATION_STRING_VARIABLE = 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'

export interface MonitorIdentity {
  /** The user-assigned identity's client ID; undefined for the system-assigned one. */
  readonly clientId: string | undefined
}

/** The identity the setting names; undefined when it is not one of the two forms. */
export function parseAuthenticationString(value: string): MonitorIdentity | undefined {
  const fields = new Map<string, string>()
  for (const part of value.split(';')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    if (eq < 0) return undefined
    const key = part.slice(0, eq).trim().toLowerCase()
    if (fields.has(key)) return undefined
    fields.set(key, part.slice(eq + 1).trim())
  }
  const clientId = fields.get('clientid')
  if (fields.get('authorization')?.toUpperCase() !== 'AAD') return undefined
  if ([...fields.keys()].some((key) => key !== 'authorization' && key !== 'clientid'))
    return undefined
  if (clientId !== undefined && !GUID_PATTERN.test(clientId)) return undefined
  return { clientId }
}
