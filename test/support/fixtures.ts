// Recorded events (test/fixtures/events) and small builders for variants: copies, never edits.
import { readFileSync } from 'node:fs'
import { EVENTS, type AnyEvent } from '../../src/events/index.js'

/** The recorded events each descriptor lists (src/events/<event>/event.ts). */
export type FixtureName = AnyEvent['fixtures'][number]

export const FIXTURE_ROUTES = Object.fromEntries(
  EVENTS.flatMap((event) => event.fixtures.map((name) => [name, event.name])),
) as Record<FixtureName, AnyEvent['name']>

export function fixturePath(name: FixtureName): string {
  return new URL(`../fixtures/events/${name}.json`, import.meta.url).pathname
}

/** A fresh deep copy of the fixture, typed loosely so that tests can break it on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests reach into and mutate arbitrary paths
export function fixture(name: FixtureName): any {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8'))
}
