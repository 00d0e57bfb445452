// OnTokenIssuanceStart: app roles by user ID, through the whole pipeline (invoke).
import { invoke, sampleEvent } from 'entra-auth-extension/testing'
import { describe, expect, it } from 'vitest'
import { createEvents } from '../src/events.js'
import roles from '../src/roles.json' with { type: 'json' }

const AVERY = '7d3c6f2a-0b1e-4c55-9a0e-3f6b2d9e8a11'
const UNKNOWN = '00000000-0000-4000-8000-000000000000'

const events = createEvents({ roles })
const claimsOf = async (userId: string) =>
  invoke(
    events,
    'onTokenIssuanceStart',
    sampleEvent('onTokenIssuanceStart', {
      data: { authenticationContext: { user: { id: userId } } },
    }),
  )

describe('OnTokenIssuanceStart', () => {
  it('gives a known user the roles of src/roles.json', async () => {
    expect(await claimsOf(AVERY)).toEqual({
      status: 200,
      body: {
        data: {
          '@odata.type': 'microsoft.graph.onTokenIssuanceStartResponseData',
          actions: [
            {
              '@odata.type': 'microsoft.graph.tokenIssuanceStart.provideClaimsForToken',
              claims: { appRoles: ['Reader', 'Editor'] },
            },
          ],
        },
      },
    })
  })

  it('gives an unknown user no roles claim', async () => {
    expect((await claimsOf(UNKNOWN)).body).toMatchObject({ data: { actions: [{ claims: {} }] } })
  })

  it('answers 401 to a call without a token, as it would to anyone but Entra', async () => {
    const res = await invoke(events, 'onTokenIssuanceStart', sampleEvent('onTokenIssuanceStart'), {
      token: null,
    })
    expect(res.status).toBe(401)
  })
})
