// OnAttributeCollectionStart (prefill) and OnAttributeCollectionSubmit (the postal-code check).
import { invoke, sampleEvent } from 'entra-auth-extension/testing'
import { describe, expect, it } from 'vitest'
import { createEvents } from '../src/events.js'

const START = 'microsoft.graph.attributeCollectionStart'
const SUBMIT = 'microsoft.graph.attributeCollectionSubmit'
const LANGUAGE = 'extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b_language'

const events = createEvents({ roles: {} })

describe('OnAttributeCollectionStart', () => {
  it('prefills the language from the locale', async () => {
    const res = await invoke(
      events,
      'onAttributeCollectionStart',
      sampleEvent('onAttributeCollectionStart', {
        data: { authenticationContext: { client: { locale: 'sv-se' } } },
      }),
    )
    expect(res).toEqual({
      status: 200,
      body: {
        data: {
          '@odata.type': 'microsoft.graph.onAttributeCollectionStartResponseData',
          actions: [{ '@odata.type': `${START}.setPrefillValues`, inputs: { [LANGUAGE]: 'sv' } }],
        },
      },
    })
  })

  it('shows the page as it is without a locale', async () => {
    const res = await invoke(
      events,
      'onAttributeCollectionStart',
      sampleEvent('onAttributeCollectionStart', {
        data: { authenticationContext: { client: { locale: null } } },
      }),
    )
    expect(res.body).toMatchObject({
      data: { actions: [{ '@odata.type': `${START}.continueWithDefaultBehavior` }] },
    })
  })
})

describe('OnAttributeCollectionSubmit', () => {
  const submit = (postalCode: string, locale = 'en-us') =>
    invoke(
      events,
      'onAttributeCollectionSubmit',
      sampleEvent('onAttributeCollectionSubmit', {
        data: {
          authenticationContext: { client: { locale } },
          userSignUpInfo: {
            attributes: {
              postalCode: {
                '@odata.type': 'microsoft.graph.stringDirectoryAttributeValue',
                value: postalCode,
              },
            },
          },
        },
      }),
    )

  it('accepts a postal code written as 211 20', async () => {
    expect((await submit('211 20')).body).toMatchObject({
      data: { actions: [{ '@odata.type': `${SUBMIT}.continueWithDefaultBehavior` }] },
    })
  })

  it('writes 21120 as 211 20', async () => {
    expect((await submit('21120')).body).toMatchObject({
      data: {
        actions: [
          {
            '@odata.type': `${SUBMIT}.modifyAttributeValues`,
            attributes: { postalCode: '211 20' },
          },
        ],
      },
    })
  })

  it('shows the page again on a code that is not five digits, in the user’s language', async () => {
    const res = await submit('2112', 'sv-se')
    expect(res).toEqual({
      status: 200,
      body: {
        data: {
          '@odata.type': 'microsoft.graph.onAttributeCollectionSubmitResponseData',
          actions: [
            {
              '@odata.type': `${SUBMIT}.showValidationError`,
              message: 'Kontrollera det markerade fältet.',
              attributeErrors: { postalCode: 'Fem siffror, som i 211 20.' },
            },
          ],
        },
      },
    })
  })

  it('lets a page without a postal code through', async () => {
    const res = await invoke(
      events,
      'onAttributeCollectionSubmit',
      sampleEvent('onAttributeCollectionSubmit'),
    )
    expect(res.body).toMatchObject({
      data: { actions: [{ '@odata.type': `${SUBMIT}.continueWithDefaultBehavior` }] },
    })
  })
})
