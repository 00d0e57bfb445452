// The OTP store's one table client, shared by the duplicate check, the rate limit and the shared
// key row: plain http only towards a loopback emulator, no retries inside the client, every call
// time-boxed. Never logs: callers report failures by name and status only.
import { TableClient } from '@azure/data-tables'
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

export function openOtpTable(options: {
  readonly connectionString: string
  readonly tableName: string
}): OtpTable {
  const endpoint = /(?:^|;)\s*TableEndpoint=([^;]+)/i.exec(options.connectionString)?.[1]
  const loopback =
    endpoint !== undefined &&
    URL.canParse(endpoint) &&
    LOOPBACK_HOSTS.has(new URL(endpoint).hostname)
  const client = TableClient.fromConnectionString(options.connectionString, options.tableName, {
    allowInsecureConnection: loopback,
    retryOptions: { maxRetries: 0 },
  })
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

/** The HTTP status of a failed table call (409 exists, 412 ETag mismatch, 404 missing). */
export const statusOf = (err: unknown) =>
  typeof err === 'object' && err !== null && 'statusCode' in err
    ? (err as { statusCode?: number }).statusCode
    : undefined
