// How the custom authentication extensions behaved, from Entra's sign-in logs (contract §8): a pure
// aggregation over the sign-ins Graph returned, per extension and event type, per UTC day, and
// (sign-in-bins.ts) per UTC hour or day over the whole range, by failure reason and by client app.
// Each applied listener is one call; a sign-in with several listeners counts once per listener.
// httpStatus and errorCode describe the last attempt. Graph documents no latency (unconfirmed
// that it has none: docs/entra-contract.md §8), so none is reported here: latency comes from the
// endpoint's own telemetry.
import { z } from 'zod'
import { Counter, type CallCounts } from './call-counts.js'
import type { FailureReason } from './error-codes.js'
import {
  binUnitFor,
  Breakdown,
  worstPeriod,
  type AppCounts,
  type BinCounts,
  type BinUnit,
  type CallFacts,
} from './sign-in-bins.js'

export type { CallCounts, ErrorCodeCount } from './call-counts.js'

export const CALLOUT_RESULT_TYPE = '#microsoft.graph.customExtensionCalloutResult'
export const LATENCY_NOTE =
  "Graph's sign-in logs carry no time per call (none is documented), so latency comes from the endpoint's own telemetry (docs/operations.md)."

const isoDateTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date-time')
const optionalInt = z.number().int().nullish()

/** An app name or ID as shown in the report: a string of at most 200 characters, else none. */
const shortText = z
  .unknown()
  .transform((v) => (typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined))
  .optional()

const SignInSchema = z.object({
  createdDateTime: isoDateTime,
  appliedEventListeners: z.array(z.unknown()).nullish(),
  // Joins the sign-in to the endpoint's log lines; identifies the sign-in, not the person.
  correlationId: z
    .unknown()
    .transform((v) => (typeof v === 'string' && /^[\w-]{1,64}$/.test(v) ? v : undefined))
    .optional(),
  appId: shortText,
  appDisplayName: shortText,
})

/** Just enough to tell a callout result from another kind of handler result. */
const ListenerShape = z.object({
  handlerResult: z.object({ '@odata.type': z.string() }).nullish(),
})

const CalloutListenerSchema = z.object({
  eventType: z.string().min(1),
  executedListenerId: z.string().nullish(),
  handlerResult: z.object({
    '@odata.type': z.literal(CALLOUT_RESULT_TYPE),
    customExtensionId: z.string().min(1),
    calloutDateTime: isoDateTime.nullish(),
    numberOfAttempts: optionalInt.refine(
      (n) => n === null || n === undefined || n >= 0,
      'negative',
    ),
    httpStatus: optionalInt,
    errorCode: optionalInt,
  }),
})

export interface DayCounts extends CallCounts {
  /** YYYY-MM-DD (UTC) of the callout, else of the sign-in. */
  readonly day: string
}

export interface ExtensionInsights extends CallCounts {
  readonly customExtensionId: string
  readonly eventType: string
  /** Only the days with calls (see `bins` for every period of the range). */
  readonly days: readonly DayCounts[]
  /** Failed calls by reason (error-codes.ts: failureReason). */
  readonly byReason: Readonly<Record<FailureReason, number>>
  /** Every UTC hour or day of the range (range.bin), zero-filled. */
  readonly bins: readonly BinCounts[]
  /** The period with the most failures, or null without any. */
  readonly worstPeriod: BinCounts | null
  /** By the sign-in's client app, most calls first. */
  readonly byApp: readonly AppCounts[]
}

export interface InsightsRange {
  /** The range the bins cover: the one asked for, widened to every call seen. */
  readonly since: string
  readonly until: string
  /** Hourly bins for ranges up to 48 hours, daily beyond. */
  readonly bin: BinUnit
  /** The oldest and newest createdDateTime read (null without sign-ins). */
  readonly earliestSignIn: string | null
  readonly latestSignIn: string | null
}

export interface SignInInsights {
  /** Sign-ins examined (well-formed or not). */
  readonly signIns: number
  /** Sign-ins without a createdDateTime or with a listener list that is not an array. */
  readonly malformedSignIns: number
  /** Sign-ins with more than one applied listener (each listener is counted as its own call). */
  readonly signInsWithMultipleListeners: number
  /** Applied listeners seen in all. */
  readonly listeners: number
  /** Listeners whose handlerResult is a customExtensionCalloutResult, after --extension. */
  readonly calls: number
  /** Listeners with another kind of handler result, or none. */
  readonly otherListeners: number
  /** Callout listeners for another extension than the one asked for. */
  readonly filteredOut: number
  /** Listener entries that failed validation: skipped and counted. */
  readonly malformedListeners: number
  readonly extensions: readonly ExtensionInsights[]
  readonly latency: string
  readonly range: InsightsRange
}

export interface AggregateOptions {
  /** Only this customExtensionId (compared without regard to case). */
  readonly extensionId?: string | undefined
  /** The range read (zero-filled bins cover it); by default the first to the last call seen. */
  readonly since?: Date | undefined
  readonly until?: Date | undefined
}

interface Group {
  readonly customExtensionId: string
  readonly eventType: string
  readonly total: Counter
  readonly days: Map<string, Counter>
  readonly breakdown: Breakdown
}

const utcDay = (iso: string): string => new Date(Date.parse(iso)).toISOString().slice(0, 10)

/** Aggregates parsed sign-ins (as Graph returns them); never throws on a malformed record. */
export function aggregateSignIns(
  signIns: readonly unknown[],
  options: AggregateOptions = {},
): SignInInsights {
  const wanted = options.extensionId?.toLowerCase()
  const groups = new Map<string, Group>()
  let malformedSignIns = 0
  let multiple = 0
  let listeners = 0
  let calls = 0
  let otherListeners = 0
  let filteredOut = 0
  let malformedListeners = 0
  let earliest = Infinity
  let latest = -Infinity
  let firstCall = Infinity
  let lastCall = -Infinity

  for (const record of signIns) {
    const signIn = SignInSchema.safeParse(record)
    if (!signIn.success) {
      malformedSignIns += 1
      continue
    }
    const created = Date.parse(signIn.data.createdDateTime)
    earliest = Math.min(earliest, created)
    latest = Math.max(latest, created)
    const entries = signIn.data.appliedEventListeners ?? []
    listeners += entries.length
    if (entries.length > 1) multiple += 1
    for (const entry of entries) {
      const shape = ListenerShape.safeParse(entry)
      if (!shape.success) {
        malformedListeners += 1
        continue
      }
      if (shape.data.handlerResult?.['@odata.type'] !== CALLOUT_RESULT_TYPE) {
        otherListeners += 1
        continue
      }
      const parsed = CalloutListenerSchema.safeParse(entry)
      if (!parsed.success) {
        malformedListeners += 1
        continue
      }
      const { eventType, handlerResult } = parsed.data
      if (wanted !== undefined && handlerResult.customExtensionId.toLowerCase() !== wanted) {
        filteredOut += 1
        continue
      }
      calls += 1
      const key = `${handlerResult.customExtensionId}\u0000${eventType}`
      let group = groups.get(key)
      if (group === undefined) {
        group = {
          customExtensionId: handlerResult.customExtensionId,
          eventType,
          total: new Counter(),
          days: new Map(),
          breakdown: new Breakdown(),
        }
        groups.set(key, group)
      }
      group.total.add(handlerResult)
      const at = Date.parse(handlerResult.calloutDateTime ?? signIn.data.createdDateTime)
      firstCall = Math.min(firstCall, at)
      lastCall = Math.max(lastCall, at)
      group.breakdown.add(callFacts(handlerResult, at, signIn.data))
      const day = utcDay(handlerResult.calloutDateTime ?? signIn.data.createdDateTime)
      let counter = group.days.get(day)
      if (counter === undefined) {
        counter = new Counter()
        group.days.set(day, counter)
      }
      counter.add(handlerResult)
    }
  }

  // The range asked for, widened to every call seen (a callout can follow its sign-in's until).
  const since = Math.min(options.since?.getTime() ?? firstCall, firstCall)
  const until = Math.max(options.until?.getTime() ?? lastCall + 1, lastCall + 1)
  // Without a range and without calls: the sign-ins read, else the Unix epoch (no bins either way).
  const hasRange = Number.isFinite(since) && Number.isFinite(until)
  const from = hasRange ? since : Number.isFinite(earliest) ? earliest : 0
  const to = hasRange ? until : Number.isFinite(latest) ? latest + 1 : 1
  const bin = binUnitFor(from, to)

  const extensions = [...groups.values()]
    .sort(
      (a, b) =>
        compare(a.customExtensionId, b.customExtensionId) || compare(a.eventType, b.eventType),
    )
    .map((group) => ({
      customExtensionId: group.customExtensionId,
      eventType: group.eventType,
      ...group.total.counts(),
      days: [...group.days.keys()]
        .sort()
        .map((day) => ({ day, ...(group.days.get(day) ?? new Counter()).counts() })),
      ...breakdownOf(group.breakdown, from, to, bin),
    }))

  return {
    signIns: signIns.length,
    malformedSignIns,
    signInsWithMultipleListeners: multiple,
    listeners,
    calls,
    otherListeners,
    filteredOut,
    malformedListeners,
    extensions,
    latency: LATENCY_NOTE,
    range: {
      since: new Date(from).toISOString(),
      until: new Date(to).toISOString(),
      bin,
      earliestSignIn: Number.isFinite(earliest) ? new Date(earliest).toISOString() : null,
      latestSignIn: Number.isFinite(latest) ? new Date(latest).toISOString() : null,
    },
  }
}

function breakdownOf(breakdown: Breakdown, since: number, until: number, unit: BinUnit) {
  const bins = breakdown.binsFor(since, until, unit)
  return {
    byReason: { ...breakdown.reasons },
    bins,
    worstPeriod: worstPeriod(bins),
    byApp: breakdown.byApp(),
  }
}

function callFacts(
  call: z.infer<typeof CalloutListenerSchema>['handlerResult'],
  at: number,
  signIn: z.infer<typeof SignInSchema>,
): CallFacts {
  const errorCode = call.errorCode ?? 0
  return {
    at,
    failed: !(call.httpStatus === 200 && errorCode === 0),
    httpStatus: call.httpStatus,
    errorCode,
    correlationId: signIn.correlationId,
    appId: signIn.appId,
    appDisplayName: signIn.appDisplayName,
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
