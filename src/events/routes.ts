// The routes, one per event descriptor (src/events/index.ts), each bound to exactly one event type
// and its request and response schemas. Hosts register these names under /api/.
import type * as z from 'zod'
import type { EventHandler } from './event.js'
import { EVENTS, type AnyEvent } from './index.js'

export type EventRoute = AnyEvent['name']
/** The descriptor of one route's event. */
export type EventOf<R extends EventRoute> = Extract<AnyEvent, { readonly name: R }>

/** Each route's descriptor (its `type`, `request` and `response` schemas among the rest). */
export const EVENT_ROUTES = Object.fromEntries(EVENTS.map((event) => [event.name, event])) as {
  readonly [R in EventRoute]: EventOf<R>
}
export const EVENT_ROUTE_NAMES: readonly EventRoute[] = EVENTS.map((event) => event.name)

/** One handler per route; a missing one is a compile error in the composition root. */
export type EventHandlers = {
  readonly [R in EventRoute]: EventHandler<
    z.output<EventOf<R>['request']>,
    z.output<EventOf<R>['response']>
  >
}

export function routeForEventType(type: string): EventRoute | undefined {
  return EVENT_ROUTE_NAMES.find((route) => EVENT_ROUTES[route].type === type)
}

export function isEventRoute(name: string): name is EventRoute {
  return Object.hasOwn(EVENT_ROUTES, name)
}
