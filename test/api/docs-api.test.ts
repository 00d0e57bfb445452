// docs/api.md cannot drift from the code API: it names every action and view field each event's
// code.ts declares, and every member of CodeContext and EventView. (Its code blocks are
// type-checked against the packed package by test/example.)
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url)
const docs = readFileSync(new URL('docs/api.md', root), 'utf8')
const read = (path: string) => readFileSync(new URL(path, root), 'utf8')

/** The members of `interface <name> … { … }` in `source`, by their two-space indentation. */
function members(source: string, name: string): string[] {
  const body = new RegExp(`interface ${name}\\b[^{]*\\{\\n([\\s\\S]*?)\\n\\}`).exec(source)?.[1]
  if (body === undefined) throw new Error(`no interface ${name}`)
  return [...body.matchAll(/^ {2}(?:readonly )?(\w+)[(:?]/gm)].map((m) => m[1] ?? '')
}

describe('docs/api.md', () => {
  const events = readdirSync(new URL('src/events/', root), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)

  it.each(events)('names every ctx action and event field of %s', (folder) => {
    const source = read(`src/events/${folder}/code.ts`)
    const actions = [...source.matchAll(/export interface (\w+Actions)\b/g)].flatMap((m) =>
      members(source, m[1] ?? ''),
    )
    expect(actions.length).toBeGreaterThan(0)
    for (const action of actions) expect(docs, action).toContain(`ctx.${action}`)
    const views = [...source.matchAll(/export interface (\w+View)\b/g)]
    // The sign-up events' views are SignUpView, checked below.
    for (const view of views)
      for (const field of members(source, view[1] ?? ''))
        expect(docs, field).toContain(`event.${field}`)
  })

  it('names every member of CodeContext, EventView and SignUpView', () => {
    const event = read('src/events/event.ts')
    for (const member of members(event, 'CodeContext'))
      expect(docs, member).toContain(`ctx.${member}`)
    for (const field of members(event, 'EventView')) expect(docs, field).toContain(`event.${field}`)
    for (const field of members(read('src/events/sign-up-view.ts'), 'SignUpView'))
      expect(docs, field).toContain(`event.${field}`)
  })
})
