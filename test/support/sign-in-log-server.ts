// A Graph stand-in serving only the sign-in logs (graph-stand-in/sign-in-logs.ts on the shared
// core: token check, faults, errors), for the sign-ins it is seeded with. Faults apply to the next
// N requests, whatever their path. Every request is recorded.
import type { TokenEndpointStandIn } from './token-endpoint.js'
import { startGraphStandIn, type RecordedGraphRequest } from './graph-stand-in/core.js'
import { signInLogsResource, type SignInRecord } from './graph-stand-in/sign-in-logs.js'

export type { SignInRecord } from './graph-stand-in/sign-in-logs.js'

export interface SignInLogFault {
  readonly status: number
  /** Graph's error code; by status unless given. */
  readonly code?: string
  readonly retryAfterSeconds?: number
}

export type SignInLogRequest = RecordedGraphRequest

export interface SignInLogStandIn {
  /** GRAPH_BASE_URL: https://127.0.0.1:<port> */
  readonly origin: string
  signIns: SignInRecord[]
  /** Page size without $top. */
  pageSize: number
  readonly requests: SignInLogRequest[]
  /** Answers the next `times` requests (1 unless given) with this fault. */
  fault(fault: SignInLogFault, times?: number): void
  reset(): void
  close(): Promise<void>
}

export async function startSignInLogServer(options: {
  readonly tokens: TokenEndpointStandIn
  readonly signIns?: readonly SignInRecord[]
  readonly pageSize?: number
}): Promise<SignInLogStandIn> {
  const logs = signInLogsResource(options)
  const core = await startGraphStandIn({ tokens: options.tokens, resources: [logs] })
  return {
    origin: core.origin,
    get signIns() {
      return logs.signIns
    },
    set signIns(signIns) {
      logs.signIns = signIns
    },
    get pageSize() {
      return logs.pageSize
    },
    set pageSize(size) {
      logs.pageSize = size
    },
    requests: core.requests,
    fault(fault, times = 1) {
      core.fault({ ...fault, times })
    },
    reset: () => core.reset(),
    close: () => core.close(),
  }
}
