// The same handlers over real sockets, as `npm run serve` runs them: serve() in dev mode (no
// ENTRA_TENANT_ID) and a token from its development issuer. Every log line is kept here (invoke()
// keeps only warnings), to check that no claim value reaches the log.
import { devToken, sampleEvent } from 'entra-auth-extension/testing'
import { describe, expect, it } from 'vitest'
import { createEvents } from '../src/events.js'
import { keptLines } from './log-lines.js'

describe('serve()', () => {
  it('answers Entra’s calls on loopback, and logs no claim value', async () => {
    const lines: string[] = []
    const roles = { '7d3c6f2a-0b1e-4c55-9a0e-3f6b2d9e8a11': ['Auditor'] }
    const server = await createEvents({ roles, env: {}, log: keptLines(lines) }).serve({
      host: '127.0.0.1',
      port: 0,
    })
    try {
      const res = await fetch(`${server.url}/api/onTokenIssuanceStart`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await devToken(server)}`,
        },
        body: JSON.stringify(sampleEvent('onTokenIssuanceStart')),
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({
        data: { actions: [{ claims: { appRoles: ['Auditor'] } }] },
      })
    } finally {
      await server.close()
    }
    const looked = lines.find((line) => line.includes('"event":"roles_looked_up"'))
    expect(looked).toContain('"count":1')
    expect(lines.join('\n')).not.toContain('Auditor')
  })
})
