// A deterministic week of Entra sign-in log records (GET /beta/auditLogs/signIns, contract §8) for
// the insights report: 3,870 sign-ins from Monday 2026-11-02 to Monday 2026-11-09 (UTC) through
// four custom extensions, with a daily rhythm, a quieter weekend, a little background noise, and
// three staged incidents (INCIDENTS). Each sign-in runs its listeners in order and stops at the
// first failure, as a user's flow does. Same records on every call; no clock, no Math.random.
// Records carry a user's name and UPN, as Graph's do: the report must not show them.
import type { SignInRecord } from './sign-in-log-server.js'

export const WEEK_SINCE = '2026-11-02T00:00:00.000Z'
export const WEEK_UNTIL = '2026-11-09T00:00:00.000Z'
export const WEEK_SIGN_INS = 3870

export interface SeedExtension {
  readonly id: string
  readonly name: string
  readonly eventType: string
}

export const CLAIMS: SeedExtension = {
  id: 'c1a1e5a0-0000-4000-8000-00000000c1a1',
  name: 'Claims from the HR API',
  eventType: 'tokenIssuanceStart',
}
export const PREFILL: SeedExtension = {
  id: 'b2b2e5a0-0000-4000-8000-00000000b2b2',
  name: 'Sign-up prefill',
  eventType: 'attributeCollectionStart',
}
export const VALIDATION: SeedExtension = {
  id: 'a3a3e5a0-0000-4000-8000-00000000a3a3',
  name: 'Sign-up validation',
  eventType: 'attributeCollectionSubmit',
}
export const OTP: SeedExtension = {
  id: 'd4d4e5a0-0000-4000-8000-00000000d4d4',
  name: 'E-mail OTP via SendGrid',
  eventType: 'emailOtpSend',
}
export const SEED_EXTENSIONS: readonly SeedExtension[] = [CLAIMS, PREFILL, VALIDATION, OTP]

/** The `--names` file for these extensions. */
export const SEED_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  SEED_EXTENSIONS.map((e) => [e.id, e.name]),
)

/** [from, until) of each staged incident. */
export const INCIDENTS = {
  /** Every claims call answered 401 (a rotated audience): 1003002, httpStatus 401. */
  wave401: {
    extension: CLAIMS,
    from: '2026-11-04T09:00:00.000Z',
    until: '2026-11-04T12:00:00.000Z',
  },
  /** The validation API unreachable: 1003027, no HTTP status. */
  connection: {
    extension: VALIDATION,
    from: '2026-11-05T15:00:00.000Z',
    until: '2026-11-05T16:00:00.000Z',
  },
  /** The mail provider down: two in three calls 503 (1003002), the rest time out (1003005). */
  otpOutage: {
    extension: OTP,
    from: '2026-11-06T07:00:00.000Z',
    until: '2026-11-06T13:00:00.000Z',
  },
} as const

export const SEED_APPS = [
  { appId: 'e1e1a0a0-1111-4111-8111-00000000e1e1', appDisplayName: 'Contoso Shop (web)' },
  { appId: 'e2e2a0a0-2222-4222-8222-00000000e2e2', appDisplayName: 'Contoso mobile' },
  { appId: 'e3e3a0a0-3333-4333-8333-00000000e3e3', appDisplayName: 'Partner portal' },
] as const

type Result = { httpStatus: number | null; errorCode: number | null; numberOfAttempts: number }

/** The week's sign-ins, oldest first. */
export function signInWeek(): SignInRecord[] {
  const random = mulberry32(18)
  const uuid = () =>
    Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16))
      .join('')
      .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')
  const since = Date.parse(WEEK_SINCE)
  const records: SignInRecord[] = []
  perHour().forEach((count, hour) => {
    const offsets = Array.from({ length: count }, () => Math.floor(random() * 3_600_000)).sort(
      (a, b) => a - b,
    )
    for (const offset of offsets) {
      const created = since + hour * 3_600_000 + offset
      const kind = random()
      const flow =
        kind < 0.7 ? [CLAIMS] : kind < 0.85 ? [OTP, CLAIMS] : [PREFILL, VALIDATION, OTP, CLAIMS]
      const app = SEED_APPS[random() < 0.6 ? 0 : random() < 0.75 ? 1 : 2]
      const listeners: unknown[] = []
      let at = created
      for (const extension of flow) {
        at += 400 + Math.floor(random() * 900)
        const result = outcome(extension, at, random())
        listeners.push({
          '@odata.type': '#microsoft.graph.appliedAuthenticationEventListener',
          eventType: extension.eventType,
          executedListenerId: `listener-${extension.eventType}`,
          handlerResult: {
            '@odata.type': '#microsoft.graph.customExtensionCalloutResult',
            customExtensionId: extension.id,
            calloutDateTime: new Date(at).toISOString(),
            ...result,
          },
        })
        if (result.httpStatus !== 200 || result.errorCode !== null) break
      }
      const user = 1 + Math.floor(random() * 900)
      records.push({
        id: uuid(),
        createdDateTime: new Date(created).toISOString(),
        correlationId: uuid(),
        appId: app.appId,
        appDisplayName: app.appDisplayName,
        userPrincipalName: `user${user}@contoso-people.example`,
        userDisplayName: `Seeded Person ${user}`,
        appliedEventListeners: listeners,
      })
    }
  })
  return records
}

const inside = (at: number, incident: { from: string; until: string }) =>
  at >= Date.parse(incident.from) && at < Date.parse(incident.until)

function outcome(extension: SeedExtension, at: number, roll: number): Result {
  const ok: Result = { httpStatus: 200, errorCode: null, numberOfAttempts: 1 }
  if (extension === CLAIMS) {
    if (inside(at, INCIDENTS.wave401))
      return { httpStatus: 401, errorCode: 1003002, numberOfAttempts: 1 }
    return roll < 0.005 ? { httpStatus: null, errorCode: 1003005, numberOfAttempts: 2 } : ok
  }
  if (extension === VALIDATION) {
    if (inside(at, INCIDENTS.connection))
      return { httpStatus: null, errorCode: 1003027, numberOfAttempts: 2 }
    return roll < 0.005 ? { httpStatus: 200, errorCode: 1003003, numberOfAttempts: 1 } : ok
  }
  if (extension === OTP) {
    if (inside(at, INCIDENTS.otpOutage))
      return roll < 2 / 3
        ? { httpStatus: 503, errorCode: 1003002, numberOfAttempts: 2 }
        : { httpStatus: null, errorCode: 1003005, numberOfAttempts: 2 }
    return roll < 0.004 ? { httpStatus: 502, errorCode: 1003002, numberOfAttempts: 2 } : ok
  }
  return roll < 0.003 ? { httpStatus: null, errorCode: 1003005, numberOfAttempts: 2 } : ok
}

/** Sign-ins per hour of the week: busy around 13:00 UTC, half on the weekend, 3,870 in all. */
function perHour(): number[] {
  const weights = Array.from({ length: 168 }, (_, h) => {
    const hour = h % 24
    const weekend = Math.floor(h / 24) >= 5 ? 0.5 : 1
    return weekend * (1 + 6 * Math.exp(-(((hour - 13) / 4.5) ** 2)))
  })
  const total = weights.reduce((a, b) => a + b, 0)
  const exact = weights.map((w) => (w / total) * WEEK_SIGN_INS)
  const counts = exact.map(Math.floor)
  const left = WEEK_SIGN_INS - counts.reduce((a, b) => a + b, 0)
  exact
    .map((x, h) => [x - Math.floor(x), h] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, left)
    .forEach(([, h]) => (counts[h] = (counts[h] ?? 0) + 1))
  return counts
}

/** A small seeded PRNG (mulberry32): the same sequence for the same seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}
