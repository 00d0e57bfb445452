// OnTokenIssuanceStart claims from configuration: pure handler over fixtures, and Entra's limits.
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/log.js'
import { createTokenIssuanceStartHandler } from '../../src/events/token-issuance-start/handler.js'
import {
  claimsProblem,
  TokenIssuanceStartEventSchema,
  TokenIssuanceStartResponseSchema,
} from '../../src/events/token-issuance-start/schema.js'
import { provideClaimsForToken } from '../../src/events/token-issuance-start/actions.js'
import {
  maxUtf8Bytes,
  REQUEST_FIELD_NAMES,
  REQUEST_FIELDS,
} from '../../src/events/token-issuance-start/request-fields.js'
import { ExtensionConfigSchema } from '../../src/extension-config/schema.js'
import { worstCaseClaimsBytes } from '../../src/events/token-issuance-start/config.js'
import { fixture, type FixtureName } from '../support/fixtures.js'

const context = {
  signal: new AbortController().signal,
  remainingMs: () => 1000,
  log: silentLogger,
  now: Date.now,
}

async function claimsFor(
  claims: unknown,
  name: FixtureName = 'token-issuance-start',
  edit?: (event: ReturnType<typeof fixture>) => void,
) {
  const config = ExtensionConfigSchema.parse({ tokenIssuanceStart: { claims } })
  const raw = fixture(name)
  edit?.(raw)
  const event = TokenIssuanceStartEventSchema.parse(raw)
  const answer = await createTokenIssuanceStartHandler(config.tokenIssuanceStart.claims)(
    event,
    context,
  )
  expect(TokenIssuanceStartResponseSchema.safeParse(answer).success).toBe(true)
  return answer.data.actions[0].claims
}

describe('claims from configuration', () => {
  it('returns static strings and string arrays as configured', async () => {
    expect(await claimsFor({ tier: { value: 'gold' }, roles: { value: ['a', 'b'] } })).toEqual({
      tier: 'gold',
      roles: ['a', 'b'],
    })
  })

  it('takes values from the user, the client and the context', async () => {
    const claims = await claimsFor({
      oid: { from: 'user.id' },
      sam: { from: 'user.onPremisesSamAccountName' },
      locale: { from: 'client.locale' },
      app: { from: 'clientServicePrincipal.appId' },
      cid: { from: 'correlationId' },
    })
    expect(claims).toEqual({
      oid: '7d3c6f2a-0b1e-4c55-9a0e-3f6b2d9e8a11',
      sam: 'averyl',
      locale: 'en-us',
      app: '66666666-7777-4888-9999-000000000001',
      cid: '44444444-5555-4666-8777-888888888801',
    })
  })

  it('uses the default, or leaves the claim out, when the request lacks the field', async () => {
    const claims = await claimsFor(
      {
        company: { from: 'user.companyName', default: 'Guest company' },
        sam: { from: 'user.onPremisesSamAccountName' },
      },
      'token-issuance-start-guest',
    )
    expect(claims).toEqual({ company: 'Guest company' })
  })

  it('treats an empty string in the request as absent', async () => {
    const claims = await claimsFor(
      { company: { from: 'user.companyName', default: 'n/a' } },
      'token-issuance-start',
      (e) => {
        e.data.authenticationContext.user.companyName = ''
      },
    )
    expect(claims).toEqual({ company: 'n/a' })
  })

  it('answers an empty claims bag (not null) when nothing applies', async () => {
    expect(await claimsFor({})).toEqual({})
  })

  it('keeps a guest UPN as sent', async () => {
    expect(
      await claimsFor({ upn: { from: 'user.userPrincipalName' } }, 'token-issuance-start-guest'),
    ).toEqual({
      upn: 'sam_partner.example#EXT#@example.onmicrosoft.com',
    })
  })
})

describe("Entra's limits on the answer", () => {
  it('counts UTF-8 bytes of names and every value against 3072', () => {
    // "é" is 2 bytes: ab + é + list + x + yz = 11 bytes; "pad" (3) and 3058 x reach 3072 exactly.
    expect(claimsProblem({ ab: 'é', list: ['x', 'yz'], pad: 'x'.repeat(3058) })).toBeUndefined()
    expect(claimsProblem({ ab: 'é', list: ['x', 'yz'], pad: 'x'.repeat(3059) })).toBe(
      "claims exceed Entra's limit of 3072 bytes",
    )
  })

  it('names the claim whose value has the wrong type', () => {
    expect(claimsProblem({ ok: 'x', n: 1 })).toBe(
      'claim "n" must be a string or an array of at most 100 strings',
    )
    expect(claimsProblem({ list: ['a', 2] })).toBe(
      'claim "list" must be a string or an array of strings',
    )
    expect(claimsProblem(null)).toBe('claims must be an object')
  })

  it('refuses an answer over 3072 bytes in the response schema', () => {
    const answer = provideClaimsForToken({ big: 'x'.repeat(3070) })
    const checked = TokenIssuanceStartResponseSchema.safeParse(answer)
    expect(checked.success).toBe(false)
    expect(checked.error?.issues[0]?.message).toBe("claims exceed Entra's limit of 3072 bytes")
  })

  it('refuses an empty claim name, a number value and a second action', () => {
    const bad = [
      provideClaimsForToken({ '': 'x' }),
      {
        data: {
          ...provideClaimsForToken({}).data,
          actions: [
            {
              '@odata.type': 'microsoft.graph.tokenIssuanceStart.provideClaimsForToken',
              claims: { n: 1 },
            },
          ],
        },
      },
      {
        data: {
          ...provideClaimsForToken({}).data,
          actions: [
            ...provideClaimsForToken({}).data.actions,
            ...provideClaimsForToken({}).data.actions,
          ],
        },
      },
    ]
    for (const answer of bad)
      expect(TokenIssuanceStartResponseSchema.safeParse(answer).success).toBe(false)
  })

  it('computes the worst case from the request bounds (4 bytes per code point)', () => {
    expect(worstCaseClaimsBytes({ n: { from: 'user.displayName' } })).toBe(1 + 256 * 4)
    expect(worstCaseClaimsBytes({ n: { from: 'user.userType', default: 'x'.repeat(200) } })).toBe(
      1 + 200,
    )
    expect(worstCaseClaimsBytes({ n: { value: ['ab', 'c'] } })).toBe(1 + 3)
  })

  it('bounds every request field by what the inbound schema lets through, emoji included', () => {
    for (const field of REQUEST_FIELD_NAMES) {
      if (!field.startsWith('user.')) continue
      const name = field.slice('user.'.length)
      const longest = '😀'.repeat(REQUEST_FIELDS[field].maxLength) // 2 UTF-16 units, 4 bytes each
      const event = fixture('token-issuance-start')
      event.data.authenticationContext.user[name] = longest
      expect(TokenIssuanceStartEventSchema.safeParse(event).success, field).toBe(true)
      expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(maxUtf8Bytes(field))
      event.data.authenticationContext.user[name] = `${longest}😀`
      expect(TokenIssuanceStartEventSchema.safeParse(event).success, field).toBe(false)
    }
  })
})
