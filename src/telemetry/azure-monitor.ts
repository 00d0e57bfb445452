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
// (its README); the Functions host reads the same setting for its own logs.
import { metrics, trace } from '@opentelemetry/api'
import type { Logger } from '../log.js'
import { createTelemetry, INSTRUMENTATION_NAME, NO_TELEMETRY, type Telemetry } from './telemetry.js'

export const CONNECTION_STRING_VARIABLE = 'APPLICATIONINSIGHTS_CONNECTION_STRING'

export async function telemetryFromEnvironment(
  env: Readonly<Record<string, string | undefined>>,
  log: Logger,
): Promise<Telemetry> {
  const connectionString = env[CONNECTION_STRING_VARIABLE]?.trim()
  if (connectionString === undefined || connectionString === '') return NO_TELEMETRY
  try {
    const { useAzureMonitor } = await import('@azure/monitor-opentelemetry')
    useAzureMonitor({
      azureMonitorExporterOptions: { connectionString },
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
  log.info('telemetry_enabled', { exporter: 'azure-monitor' })
  return createTelemetry(
    trace.getTracer(INSTRUMENTATION_NAME),
    metrics.getMeter(INSTRUMENTATION_NAME),
  )
}
