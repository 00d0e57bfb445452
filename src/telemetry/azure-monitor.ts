// Azure Monitor (Application Insights) as the exporter of the endpoint's OpenTelemetry, only when
// APPLICATIONINSIGHTS_CONNECTION_STRING is set. Without it nothing is imported or started: the
// distro's resource detectors probe the Azure instance metadata endpoint (169.254.169.254), which
// must never happen on a laptop, in tests, or in CI; and a cold start stays small.
//
// The distro's own instrumentations are turned off: this endpoint makes its own server and source
// spans (src/telemetry/telemetry.ts) with no personal data, whereas the HTTP and Azure SDK
// instrumentations would record outbound URLs, and a source URL can hold a user's ID.
// Relied on: @azure/monitor-opentelemetry's useAzureMonitor(options) with
// azureMonitorExporterOptions.connectionString and instrumentationOptions.{http,azureSdk}.enabled
// (its README); the Functions host reads the same setting for its own logs. With
// APPLICATIONINSIGHTS_AUTHENTICATION_STRING (local authentication off on the resource), the
// exporter also gets azureMonitorExporterOptions.credential: the managed identity it names.
import type { TokenCredential } from '@azure/identity'
import { metrics, trace } from '@opentelemetry/api'
import type { Logger } from '../log.js'
import {
  AUTHENTICATION_STRING_VARIABLE,
  parseAuthenticationString,
  type MonitorIdentity,
} from './authentication-string.js'
import { createTelemetry, INSTRUMENTATION_NAME, NO_TELEMETRY, type Telemetry } from './telemetry.js'

export const CONNECTION_STRING_VARIABLE = 'APPLICATIONINSIGHTS_CONNECTION_STRING'

export async function telemetryFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): Promise<Telemetry> {
  const connectionString = env[CONNECTION_STRING_VARIABLE]?.trim()
  if (connectionString === undefined || connectionString === '') return NO_TELEMETRY
  const authentication = env[AUTHENTICATION_STRING_VARIABLE]?.trim()
  const identity =
    authentication === undefined || authentication === ''
      ? undefined
      : parseAuthenticationString(authentication)
  if (authentication !== undefined && authentication !== '' && identity === undefined) {
    // The configuration check reports it too (and fails closed); never the value here.
    log.error('telemetry_unavailable', {
      reason: `${AUTHENTICATION_STRING_VARIABLE}: must be Authorization=AAD or Authorization=AAD;ClientId=<GUID>`,
    })
    return NO_TELEMETRY
  }
  try {
    const credential = identity === undefined ? undefined : await monitorCredential(identity)
    const { useAzureMonitor } = await import('@azure/monitor-opentelemetry')
    useAzureMonitor({
      azureMonitorExporterOptions: {
        connectionString,
        ...(credential === undefined ? {} : { credential }),
      },
      instrumentationOptions: {
        http: { enabled: false },
        azureSdk: { enabled: false },
        mongoDb: { enabled: false },
        mySql: { enabled: false },
        postgreSql: { enabled: false },
        redis: { enabled: false },
        redis4: { enabled: false },
      },
      enableLiveMetrics: false,
    })
  } catch (err) {
    // Telemetry must never stop sign-ins: serve without it, and say why (no secret in the line).
    log.error('telemetry_unavailable', {
      reason: err instanceof Error ? err.message.split('\n')[0]?.slice(0, 200) : 'unknown',
    })
    return NO_TELEMETRY
  }
  log.info('telemetry_enabled', {
    exporter: 'azure-monitor',
    authentication: identity === undefined ? 'connection-string' : 'managed-identity',
  })
  return createTelemetry(
    trace.getTracer(INSTRUMENTATION_NAME),
    metrics.getMeter(INSTRUMENTATION_NAME),
  )
}

/** The managed identity the authentication string names, for the exporter's ingestion tokens. */
export async function monitorCredential(identity: MonitorIdentity): Promise<TokenCredential> {
  const { ManagedIdentityCredential } = await import('@azure/identity')
  return identity.clientId === undefined
    ? new ManagedIdentityCredential()
    : new ManagedIdentityCredential({ clientId: identity.clientId })
}
