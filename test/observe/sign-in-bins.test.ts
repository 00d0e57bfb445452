// The time and app breakdowns of aggregateSignIns: zero-filled hourly or daily bins over the range,
// failures by reason, correlation ID samples per error and period, calls per client app.
import { describe, expect, it } from 'vitest'
import { failureReason } from '../../tools/observe/error-codes.js'
import { aggregateSignIns, CALLOUT_RESULT_TYPE } from '../../tools/observe/sign-in-insights.js'

const X = '33333333-3333-4333-8333-333333333333'
let n = 0

function call(at: string, httpStatus: number | null, errorCode: number | null, app = 'web') {
  n += 1
  return {
    id: `s${n}`,
    createdDateTime: at,
    correlationId: `c-${n}`,
    appId: `app-${app}`,
    appDisplayName: `Contoso ${app}`,
    userPrincipalName: `user${n}@contoso.test`,
    appliedEventListeners: [
      {
        eventType: 'tokenIssuanceStart',
        handlerResult: {
          '@odata.type': CALLOUT_RESULT_TYPE,
          customExtensionId: X,
          calloutDateTime: at,
          numberOfAttempts: 1,
          httpStatus,
          errorCode,
        },
      },
    ],
  }
}

const SIGN_INS = [
  call('2026-05-04T10:05:00Z', 200, null),
  call('2026-05-04T10:10:00Z', 401, 1003002),
  call('2026-05-04T10:20:00Z', 401, 1003002, 'mobile'),
  call('2026-05-04T10:30:00Z', 401, 1003002),
  call('2026-05-04T10:40:00Z', 401, 1003002),
  call('2026-05-04T13:00:00Z', null, 1003005, 'mobile'),
  call('2026-05-04T13:30:00Z', 503, 1003002),
  call('2026-05-04T14:00:00Z', null, 1003027),
  call('2026-05-04T14:10:00Z', 200, 1003003),
  call('2026-05-04T14:20:00Z', 200, null, 'mobile'),
]

describe('aggregateSignIns: bins, reasons, apps and samples', () => {
  it('classifies a failure as connection, timeout, 401/4xx, 5xx or other', () => {
    expect(failureReason(null, 1003027)).toBe('connection')
    expect(failureReason(null, 1003005)).toBe('timeout')
    expect(failureReason(401, 1003002)).toBe('http4xx')
    expect(failureReason(503, 1003002)).toBe('http5xx')
    expect(failureReason(200, 1003003)).toBe('other')
    expect(failureReason(null, null)).toBe('other')
  })

  it('bins a range up to 48 h by hour, zero-filled, with partial hours at its ends', () => {
    const insights = aggregateSignIns(SIGN_INS, {
      since: new Date('2026-05-04T09:30:00Z'),
      until: new Date('2026-05-04T16:00:00Z'),
    })
    expect(insights.range).toEqual({
      since: '2026-05-04T09:30:00.000Z',
      until: '2026-05-04T16:00:00.000Z',
      bin: 'hour',
      earliestSignIn: '2026-05-04T10:05:00.000Z',
      latestSignIn: '2026-05-04T14:20:00.000Z',
    })
    const [x] = insights.extensions
    expect(x?.bins.map((b) => [b.start.slice(11, 16), b.calls, b.failures, b.partial])).toEqual([
      ['09:00', 0, 0, true],
      ['10:00', 5, 4, false],
      ['11:00', 0, 0, false],
      ['12:00', 0, 0, false],
      ['13:00', 2, 2, false],
      ['14:00', 3, 2, false],
      ['15:00', 0, 0, false],
    ])
    expect(x?.byReason).toEqual({ timeout: 1, http4xx: 4, http5xx: 1, connection: 1, other: 1 })
    const ten = x?.bins[1]
    expect(ten).toMatchObject({
      failureRate: 0.8,
      byReason: { timeout: 0, http4xx: 4, http5xx: 0, connection: 0, other: 0 },
      byErrorCode: [{ code: 1003002, count: 4 }],
      // Three correlation IDs at most per error and period, the first ones.
      samples: [{ code: 1003002, correlationIds: ['c-2', 'c-3', 'c-4'] }],
    })
    expect(x?.worstPeriod?.start).toBe('2026-05-04T10:00:00.000Z')
    expect(x?.byApp).toEqual([
      {
        appId: 'app-web',
        appDisplayName: 'Contoso web',
        calls: 7,
        failures: 6,
        successRate: 0.1429,
        byErrorCode: [
          { code: 1003002, count: 4 },
          { code: 1003003, count: 1 },
          { code: 1003027, count: 1 },
        ],
      },
      {
        appId: 'app-mobile',
        appDisplayName: 'Contoso mobile',
        calls: 3,
        failures: 2,
        successRate: 0.3333,
        byErrorCode: [
          { code: 1003002, count: 1 },
          { code: 1003005, count: 1 },
        ],
      },
    ])
    expect(JSON.stringify(insights)).not.toContain('@contoso.test')
  })

  it('bins a longer range by UTC day, and days without calls are present', () => {
    const insights = aggregateSignIns(SIGN_INS, {
      since: new Date('2026-05-01T06:00:00Z'),
      until: new Date('2026-05-07T06:00:00Z'),
    })
    expect(insights.range.bin).toBe('day')
    expect(
      insights.extensions[0]?.bins.map((b) => [b.start.slice(0, 10), b.calls, b.partial]),
    ).toEqual([
      ['2026-05-01', 0, true],
      ['2026-05-02', 0, false],
      ['2026-05-03', 0, false],
      ['2026-05-04', 10, false],
      ['2026-05-05', 0, false],
      ['2026-05-06', 0, false],
      ['2026-05-07', 0, true],
    ])
    expect(insights.extensions[0]?.bins[3]?.samples.map((s) => s.code)).toEqual([
      1003002, 1003003, 1003005, 1003027,
    ])
  })

  it('without a range, bins cover the calls seen; ignores odd correlation IDs and app names', () => {
    const odd = { ...call('2026-05-04T10:00:00Z', null, 1003005), correlationId: '<x>', appId: 7 }
    const insights = aggregateSignIns([odd])
    expect(insights.range).toMatchObject({
      since: '2026-05-04T10:00:00.000Z',
      until: '2026-05-04T10:00:00.001Z',
    })
    expect(insights.extensions[0]?.bins[0]?.samples).toEqual([])
    expect(insights.extensions[0]?.bins[0]?.byErrorCode).toEqual([{ code: 1003005, count: 1 }])
    expect(insights.extensions[0]?.byApp[0]?.appId).toBe('unknown')
  })
})
