// Boots the real local host (src/http/local-server.ts) on loopback against a test issuer, with a
// capturing logger, and speaks HTTP to it through real sockets.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalServer, type LocalServer } from '../../src/http/local-server.js'
import type { LogFields, Logger } from '../../src/log.js'
import type { Telemetry } from '../../src/telemetry/telemetry.js'
import { EXTENSION_APP_ID, IDENTIFIER_URI, type TestIssuer } from './oidc-issuer.js'
import type { CodeHandlers } from '../../src/events/code-handler.js'

export interface LogLine {
  readonly level: string
  readonly event: string
  readonly fields: LogFields
}

export interface TestEndpoint {
  readonly url: string
  readonly server: LocalServer
  readonly logs: LogLine[]
  /** The fake clock's offset from real time, in ms: advance it instead of sleeping. */
  clockOffsetMs: number
  post(route: string, body: unknown, options?: PostOptions): Promise<TestResponse>
  close(): Promise<void>
}

export interface PostOptions {
  readonly token?: string | null
  readonly headers?: Record<string, string>
  readonly method?: string
}

export interface TestResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: unknown
}

export function capturingLogger(lines: LogLine[]): Logger {
  const at =
    (level: string) =>
    (event: string, fields: LogFields = {}) => {
      lines.push({ level, event, fields })
    }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** Writes an EXTENSION_CONFIG file to a fresh temporary folder and returns its path. */
export function writeExtensionConfig(config: unknown): string {
  // Under the run's scratch folder (global-setup.ts removes it), else the system's.
  const parent = process.env.TEST_TMP_DIR ?? tmpdir()
  mkdirSync(parent, { recursive: true })
  const folder = mkdtempSync(join(parent, 'ext-config-'))
  const path = join(folder, 'extension-config.json')
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config))
  return path
}

export async function startTestEndpoint(
  issuer: TestIssuer,
  env: Record<string, string> = {},
  options: { readonly telemetry?: Telemetry; readonly code?: CodeHandlers } = {},
): Promise<TestEndpoint> {
  const logs: LogLine[] = []
  const holder = { clockOffsetMs: 0 }
  const server = await startLocalServer({
    env: {
      ENTRA_TENANT_ID: issuer.tenantId,
      ENTRA_AUDIENCE: `${EXTENSION_APP_ID},${IDENTIFIER_URI}`,
      ENTRA_ISSUER: issuer.issuer,
      HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    },
    log: capturingLogger(logs),
    now: () => Date.now() + holder.clockOffsetMs,
    ...(options.telemetry === undefined ? {} : { telemetry: options.telemetry }),
    ...(options.code === undefined ? {} : { code: options.code }),
  })
  let token: string | undefined
  const endpoint: TestEndpoint = {
    url: server.url,
    server,
    logs,
    get clockOffsetMs() {
      return holder.clockOffsetMs
    },
    set clockOffsetMs(value: number) {
      holder.clockOffsetMs = value
    },
    async post(route, body, options = {}) {
      token ??= await issuer.mint()
      const bearer = options.token === undefined ? token : options.token
      const res = await fetch(`${server.url}/api/${route}`, {
        method: options.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }),
          ...options.headers,
        },
        ...(options.method === 'GET' || options.method === 'HEAD'
          ? {}
          : {
              body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
            }),
      })
      const text = await res.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      return { status: res.status, headers: res.headers, text, json }
    },
    close: () => server.close(),
  }
  return endpoint
}
