// Optional libraries load only when configured (src/lazy.ts), so the plain endpoint's cold start
// does not pay for them. Checked in a fresh process: which packages are loaded once the endpoint
// is built and warmed up.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../../', import.meta.url).pathname

async function loadedPackages(env: Record<string, string>): Promise<string[]> {
  // A resolve hook reports every module the process loads (ESM imports of CommonJS packages
  // included), through a port: require.cache would miss what is loaded with import.
  const script = `
    import { register } from 'node:module'
    import { MessageChannel } from 'node:worker_threads'
    const { port1, port2 } = new MessageChannel()
    const seen = new Set()
    port1.on('message', (url) => seen.add(url))
    const hooks = 'let port; export function initialize(data) { port = data.port }' +
      ' export async function resolve(specifier, context, next) {' +
      ' const result = await next(specifier, context); port.postMessage(result.url); return result }'
    register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] })
    const { createEndpoint } = await import('./src/app.ts')
    const { loadConfig } = await import('./src/config.ts')
    const { silentLogger } = await import('./src/log.ts')
    const endpoint = createEndpoint(loadConfig(process.env), { log: silentLogger })
    await endpoint.warmedUp.catch(() => undefined)
    await new Promise((resolve) => setTimeout(resolve, 200)) // the last messages
    const names = new Set([...seen].map((u) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean))
    process.stdout.write(JSON.stringify([...names]))
    process.exit(0)
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ENTRA_TENANT_ID: '11111111-2222-4333-8444-555555555555',
      ENTRA_AUDIENCE: 'a1b2c3d4-0000-4000-8000-00000000e0e0',
      // No issuer is reachable: the key warm-up fails at once, which is fine here.
      ENTRA_ISSUER: 'http://127.0.0.1:9/11111111-2222-4333-8444-555555555555/v2.0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  await once(child, 'close')
  return JSON.parse(out) as string[]
}

describe('optional libraries', () => {
  it('are not loaded by an endpoint that does not use them', async () => {
    const loaded = await loadedPackages({})
    expect(loaded).toEqual(expect.arrayContaining(['zod', 'jose'])) // the hook does see packages
    for (const name of [
      'nodemailer',
      '@sendgrid/mail',
      '@sendgrid/client',
      '@azure/communication-email',
      '@azure/data-tables',
      '@azure/identity',
      '@azure/monitor-opentelemetry',
    ])
      expect(loaded, name).not.toContain(name)
  })

  it('are loaded during the warm-up when configured: only the configured provider', async () => {
    const loaded = await loadedPackages({
      MAIL_PROVIDER: 'smtp',
      MAIL_FROM: 'no-reply@contoso.test',
      SMTP_URL: 'smtp://127.0.0.1:2525',
    })
    expect(loaded).toContain('nodemailer')
    expect(loaded).not.toContain('@sendgrid/mail')
  })
})
