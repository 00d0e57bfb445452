// The OTP store's one table client, shared by the duplicate check, the rate limit and the shared
// key row: by connection string (plain http only towards a loopback emulator), or by table service
// endpoint (https) with the managed identity; no retries inside the client, every call
// time-boxed. Never logs: callers report failures by name and status only.
import { TableClient } from '@azure/data-tables'
import { ManagedIdentityCredential } from '@azure/identity'
import type { OtpStoreConfig } from '../config.js'
import { LOOPBACK_HOSTS } from '../secure-url.js'

/** One table operation may take this long at most; less when the request has less time left. */
export const CALL_TIMEOUT_MS = 400

export interface OtpTable {
  readonly client: TableClient
  /** The abort option of one call: CALL_TIMEOUT_MS, or `budgetMs` when that is less. */
  readonly timeout: (budgetMs?: number) => { abortSignal: AbortSignal }
  /** Creates the table once per process (tried again after a failure). */
  readonly ensureTable: (budgetMs: number) => Promise<void>
}

export function openOtpTable(options: OtpStoreConfig): OtpTable {
  const client = tableClient(options)
  const timeout = (budgetMs = CALL_TIMEOUT_MS) => ({
    abortSignal: AbortSignal.timeout(Math.max(1, Math.round(Math.min(CALL_TIMEOUT_MS, budgetMs)))),
  })
  let tableReady: Promise<void> | undefined
  return {
    client,
    timeout,
    ensureTable: (budgetMs) =>
      (tableReady ??= client.createTable(timeout(budgetMs)).catch((err: unknown) => {
        tableReady = undefined // try again next time
        throw err
      })),
  }
}

function tableClient(options: OtpStoreConfig): TableClient {
  const retryOptions = { maxRetries: 0 }
  if ('endpoint' in options) {
    const credential =
      options.clientId === undefined
        ? new ManagedIdentityCredential()
        : new ManagedIdentityCredential({ clientId: options.clientId })
    // Bicep's primaryEndpoints.table ends with a slash; the client appends its own paths.
    const url = options.endpoint.replace(/\/+$/, '')
    return new TableClient(url, options.tableName, credential, { retryOptions })
  }
  const endpoint = /(?:^|;)\s*TableEndpoint=([^;]+)/i.exec(options.connectionString)?.[1]
  const loopback =
    endpoint !== undefined &&
    URL.canParse(endpoint) &&
    LOOPBACK_HOSTS.has(new URL(endpoint).hostname)
  return TableClient.fromConnectionString(options.connectionString, options.tableName, {
    allowInsecureConnection: loopback,
    retryOptions,
  })
}
