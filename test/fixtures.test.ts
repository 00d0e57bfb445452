// Every recorded event parses with its route's schema, and the fixtures README accounts for each file.
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { EVENT_ROUTES, routeForEventType } from '../src/events/routes.js'
import { fixture, FIXTURE_ROUTES, type FixtureName } from './support/fixtures.js'

const dir = new URL('./fixtures/events/', import.meta.url)
const files = readdirSync(dir).filter((file) => file.endsWith('.json'))

describe('fixtures', () => {
  it('are all known to the test support', () => {
    expect(files.map((file) => file.replace(/\.json$/, '')).sort()).toEqual(
      Object.keys(FIXTURE_ROUTES).sort(),
    )
  })

  it.each(Object.entries(FIXTURE_ROUTES))('%s parses with the %s request schema', (name, route) => {
    const event = fixture(name as FixtureName)
    expect(routeForEventType(event.type)).toBe(route)
    const parsed = EVENT_ROUTES[route].request.safeParse(event)
    expect(parsed.error?.issues).toBeUndefined()
  })

  it('are each described in test/fixtures/README.md', () => {
    const readme = readFileSync(new URL('./fixtures/README.md', import.meta.url), 'utf8')
    for (const file of files) expect(readme).toContain(file)
  })

  it('read the OTP code key case-insensitively (contract §9.2)', () => {
    const event = fixture('otp-send')
    event.data.otpContext = { identifier: 'a@example.org', onetimecode: '123456' }
    const parsed = EVENT_ROUTES.onOtpSend.request.parse(event)
    expect(parsed.data.otpContext).toEqual({ identifier: 'a@example.org', oneTimeCode: '123456' })
  })

  it('accept multi-value attributes as a comma-delimited string or an array (contract §5)', () => {
    const event = fixture('attribute-collection-submit')
    const interests =
      event.data.userSignUpInfo.attributes.extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b_interests
    interests.value = ['Hiking', 'Chess']
    const parsed = EVENT_ROUTES.onAttributeCollectionSubmit.request.parse(event)
    expect(parsed.data.userSignUpInfo.attributes.city?.['@odata.type']).toBe(
      'microsoft.graph.stringDirectoryAttributeValue',
    )
    expect(
      parsed.data.userSignUpInfo.attributes.extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b_interests
        ?.value,
    ).toEqual(['Hiking', 'Chess'])
  })

  it('drop a "__proto__" attribute without touching any prototype', () => {
    const event = fixture('attribute-collection-submit')
    const body = JSON.stringify(event).replace('"givenName":', '"__proto__":')
    const parsed = EVENT_ROUTES.onAttributeCollectionSubmit.request.parse(JSON.parse(body))
    const attributes = parsed.data.userSignUpInfo.attributes
    expect(Object.hasOwn(attributes, '__proto__')).toBe(false)
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype)
    expect(Object.keys(attributes)).not.toContain('givenName')
  })
})
