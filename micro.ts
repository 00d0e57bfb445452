import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { createEndpoint } from './src/app.js'
import { loadConfig } from './src/config.js'
import { startDevIssuer, DEV_TENANT_ID, DEV_AUDIENCE } from './src/dev/dev-issuer.js'
import { silentLogger } from './src/log.js'
import { TokenIssuanceStartEventSchema, TokenIssuanceStartResponseSchema } from './src/events/token-issuance-start/schema.js'
const dev = await startDevIssuer()
const ep = createEndpoint(loadConfig({ ENTRA_TENANT_ID: DEV_TENANT_ID, ENTRA_AUDIENCE: DEV_AUDIENCE, ENTRA_ISSUER: dev.issuer }), { log: silentLogger }); await ep.warmedUp
const token = await dev.mintToken()
const body = readFileSync('test/fixtures/events/token-issuance-start.json')
const headers = new Map([['authorization', `Bearer ${token}`], ['content-type', 'application/json'], ['content-length', String(body.length)]])
const call = () => ({ method: 'POST', headers: { get: (n: string) => headers.get(n) ?? null }, body: Readable.from([body]) })
async function time(name: string, n: number, fn: () => unknown) {
  for (let i = 0; i < n; i++) await fn()
  const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) await fn()
  console.log(name.padEnd(24), (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2), 'µs')
}
const parsed = JSON.parse(body.toString()); const resp = JSON.parse((await ep.handle('onTokenIssuanceStart', call(), { log: silentLogger })).body)
for (let r = 0; r < 2; r++) {
await time('full handle', 30000, () => ep.handle('onTokenIssuanceStart', call(), { log: silentLogger }))
await time('zod request', 30000, () => TokenIssuanceStartEventSchema.safeParse(parsed))
await time('zod response', 30000, () => TokenIssuanceStartResponseSchema.safeParse(resp))
}
await dev.close()
