// OnAttributeCollectionStart and OnAttributeCollectionSubmit driven by EXTENSION_CONFIG, through
// the real local host with tokens from the loopback issuer: every action of both events, the
// localisation fallback, names as received, types kept, unknown attributes left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestEndpoint, writeExtensionConfig, type TestEndpoint } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

const EXT = 'extension_5f1c0e0b8d2a4e3c9a7b6c5d4e3f2a1b'
const START = 'microsoft.graph.attributeCollectionStart'
const SUBMIT = 'microsoft.graph.attributeCollectionSubmit'
const APP_ID = '66666666-7777-4888-9999-000000000003' // the fixtures' client app

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await startTestIssuer()
})
afterAll(async () => {
  await issuer.close()
})

/** Boots the local host with this EXTENSION_CONFIG for the tests of one describe block. */
function withConfig(config: unknown): { readonly endpoint: TestEndpoint } {
  const holder = {} as { endpoint: TestEndpoint }
  beforeAll(async () => {
    holder.endpoint = await startTestEndpoint(issuer, {
      EXTENSION_CONFIG: writeExtensionConfig(config),
    })
  })
  afterAll(async () => {
    await holder.endpoint.close()
  })
  return holder
}

type Event = ReturnType<typeof fixture>
const startEvent = (edit?: (event: Event) => void) => {
  const event = fixture('attribute-collection-start')
  edit?.(event)
  return event
}
const submitEvent = (edit?: (event: Event) => void) => {
  const event = fixture('attribute-collection-submit')
  edit?.(event)
  return event
}
const setLocale = (locale: string | null) => (event: Event) => {
  event.data.authenticationContext.client.locale = locale
}
const setEmail = (address: string) => (event: Event) => {
  event.data.userSignUpInfo.identities[0].issuerAssignedId = address
}
const setAttribute = (name: string, value: unknown, type = 'stringDirectoryAttributeValue') => {
  return (event: Event) => {
    event.data.userSignUpInfo.attributes[name] = {
      '@odata.type': `microsoft.graph.${type}`,
      value,
      attributeType: name.startsWith('extension_') ? 'directorySchemaExtension' : 'builtIn',
    }
  }
}
const removeAttribute = (name: string) => (event: Event) => {
  delete event.data.userSignUpInfo.attributes[name]
}

/** Posts the event and returns its one action (after checking the envelope and the status). */
async function actionFor(endpoint: TestEndpoint, route: string, event: Event) {
  const res = await endpoint.post(route, event)
  expect(res.status, res.text).toBe(200)
  const body = res.json as { data: { '@odata.type': string; actions: Record<string, unknown>[] } }
  expect(body.data.actions).toHaveLength(1)
  const [action] = body.data.actions
  if (action === undefined) throw new Error('no action')
  return action
}
const start = (endpoint: TestEndpoint, event: Event) =>
  actionFor(endpoint, 'onAttributeCollectionStart', event)
const submit = (endpoint: TestEndpoint, event: Event) =>
  actionFor(endpoint, 'onAttributeCollectionSubmit', event)

describe('OnAttributeCollectionStart', () => {
  describe('with no sign-up configuration', () => {
    const it$ = withConfig({})
    it('continues with the default behaviour', async () => {
      expect(await start(it$.endpoint, startEvent())).toEqual({
        '@odata.type': `${START}.continueWithDefaultBehavior`,
      })
    })
  })

  describe('prefill', () => {
    const it$ = withConfig({
      attributeCollectionStart: {
        prefill: {
          CITY: { value: 'Malmö' }, // configured in another case than Entra sends it
          [`${EXT}_newsletter`]: { value: true },
          givenName: { from: 'emailDomain' },
          [`${EXT}_language`]: { from: 'locale' },
          country: { value: 'SE' }, // not on the page
        },
      },
    })

    it('sets static and derived values, under the names as received, in their types', async () => {
      const action = await start(it$.endpoint, startEvent())
      expect(action).toEqual({
        '@odata.type': `${START}.setPrefillValues`,
        inputs: {
          city: 'Malmö',
          [`${EXT}_newsletter`]: true,
          givenName: 'example.org',
          [`${EXT}_language`]: 'sv-se',
        },
      })
    })

    it('prefills only attributes on the page', async () => {
      const action = await start(it$.endpoint, startEvent(removeAttribute(`${EXT}_language`)))
      expect(action.inputs).toEqual({
        city: 'Malmö',
        [`${EXT}_newsletter`]: true,
        givenName: 'example.org',
      })
      expect(action.inputs).not.toHaveProperty('country')
    })

    it('skips a value whose type differs from the one Entra declares, and says so', async () => {
      const action = await start(
        it$.endpoint,
        startEvent(setAttribute('city', '', 'booleanDirectoryAttributeValue')),
      )
      expect(action.inputs).not.toHaveProperty('city')
      expect(it$.endpoint.logs).toContainEqual({
        level: 'warn',
        event: 'prefill_skipped',
        fields: {
          correlationId: expect.any(String),
          attribute: 'city',
          reason: 'Entra declares it boolean',
        },
      })
    })

    it('continues when nothing applies (no e-mail, no listed attributes)', async () => {
      const action = await start(
        it$.endpoint,
        startEvent((event) => {
          event.data.userSignUpInfo = { attributes: {}, identities: [] }
        }),
      )
      expect(action).toEqual({ '@odata.type': `${START}.continueWithDefaultBehavior` })
    })
  })

  describe('block rules', () => {
    const it$ = withConfig({
      defaultLocale: 'en',
      attributeCollectionStart: {
        prefill: { city: { value: 'Malmö' } },
        block: [
          {
            when: { emailDomain: { in: ['mailinator.com', '*.example.net'] } },
            title: { en: 'Sign-up not available', sv: 'Registrering inte möjlig' },
            message: {
              en: 'Sign-ups from this e-mail domain are not accepted.',
              sv: 'Registrering från den här e-postdomänen accepteras inte.',
            },
          },
          {
            when: { clientAppId: { notIn: [APP_ID.toUpperCase()] } },
            message: 'This application does not accept new accounts.',
          },
        ],
      },
    })

    it('blocks a denied domain with the text for the request locale (sv-se → sv)', async () => {
      const action = await start(it$.endpoint, startEvent(setEmail('kim@MAILINATOR.com')))
      expect(action).toEqual({
        '@odata.type': `${START}.showBlockPage`,
        title: 'Registrering inte möjlig',
        message: 'Registrering från den här e-postdomänen accepteras inte.',
      })
    })

    it('matches subdomains only with a "*." pattern', async () => {
      const blocked = await start(
        it$.endpoint,
        startEvent((event) => {
          setEmail('kim@mail.example.net')(event)
          setLocale('de-de')(event) // no German text: the default locale
        }),
      )
      expect(blocked).toMatchObject({
        '@odata.type': `${START}.showBlockPage`,
        title: 'Sign-up not available',
      })
      const apex = await start(it$.endpoint, startEvent(setEmail('kim@example.net')))
      expect(apex['@odata.type']).toBe(`${START}.setPrefillValues`)
    })

    it('blocks a client app that is not on the allow list; the first rule that holds wins', async () => {
      const other = startEvent((event) => {
        event.data.authenticationContext.clientServicePrincipal.appId =
          '99999999-0000-4000-8000-000000000099'
      })
      expect(await start(it$.endpoint, other)).toEqual({
        '@odata.type': `${START}.showBlockPage`,
        message: 'This application does not accept new accounts.',
      })
      setEmail('kim@mailinator.com')(other)
      expect((await start(it$.endpoint, other)).title).toBe('Registrering inte möjlig')
    })

    it('logs which rule blocked, never the e-mail address', async () => {
      await start(it$.endpoint, startEvent(setEmail('kim@mailinator.com')))
      const line = it$.endpoint.logs.findLast((l) => l.event === 'sign_up_blocked')
      expect(line?.fields).toEqual({ correlationId: expect.any(String), event: 'start', rule: 0 })
      expect(JSON.stringify(it$.endpoint.logs)).not.toContain('mailinator')
    })
  })

  describe('block rules on a federated sign-up (no e-mail identity)', () => {
    const contosoOnly = {
      block: [
        {
          when: { emailDomain: { notIn: ['contoso.com'] } },
          message: 'Use your Contoso e-mail address.',
        },
      ],
    }
    const it$ = withConfig({
      attributeCollectionStart: contosoOnly,
      attributeCollectionSubmit: contosoOnly,
    })
    const federated = (event: Event) => {
      event.data.userSignUpInfo.identities = [
        { signInType: 'federated', issuer: 'google.com', issuerAssignedId: '1234567890' },
      ]
    }

    it('reads a missing e-mail as outside every domain: an allow list blocks it', async () => {
      expect(await start(it$.endpoint, startEvent(federated))).toEqual({
        '@odata.type': `${START}.showBlockPage`,
        message: 'Use your Contoso e-mail address.',
      })
    })

    it("finding 4: a typed 'email' attribute is no verified domain: the allow list still blocks", async () => {
      const event = startEvent((e) => {
        federated(e)
        setAttribute('email', 'ceo@contoso.com')(e)
      })
      expect(await start(it$.endpoint, event)).toEqual({
        '@odata.type': `${START}.showBlockPage`,
        message: 'Use your Contoso e-mail address.',
      })
    })

    it('finding 4: the verified address of a local account (federated, issuer "mail") counts', async () => {
      const event = fixture('attribute-collection-submit-local-account')
      event.data.userSignUpInfo.identities[0].issuerAssignedId = 'kim@contoso.com'
      expect(await submit(it$.endpoint, event)).toEqual({
        '@odata.type': `${SUBMIT}.continueWithDefaultBehavior`,
      })
      // The shipped fixture's address is not at contoso.com: blocked on Submit too.
      expect(
        await submit(it$.endpoint, fixture('attribute-collection-submit-local-account')),
      ).toMatchObject({ '@odata.type': `${SUBMIT}.showBlockPage` })
    })

    it('finding 4: signInType "emailAddress" (the Graph spelling) is a verified address', async () => {
      const event = startEvent((e) => {
        e.data.userSignUpInfo.identities = [
          {
            signInType: 'emailAddress',
            issuer: 'contoso.onmicrosoft.com',
            issuerAssignedId: 'kim@contoso.com',
          },
        ]
      })
      expect(await start(it$.endpoint, event)).toEqual({
        '@odata.type': `${START}.continueWithDefaultBehavior`,
      })
    })

    it('finding 4: a federated identity of another issuer is not an address, whatever it holds', async () => {
      const event = startEvent((e) => {
        e.data.userSignUpInfo.identities = [
          { signInType: 'federated', issuer: 'google.com', issuerAssignedId: 'kim@contoso.com' },
        ]
      })
      expect(await start(it$.endpoint, event)).toMatchObject({
        '@odata.type': `${START}.showBlockPage`,
      })
    })
  })

  describe('finding 4: onMissing decides what "no verified domain" means', () => {
    const it$ = withConfig({
      attributeCollectionStart: {
        block: [
          {
            when: { emailDomain: { in: ['mailinator.com'], onMissing: 'block' } },
            message: 'Sign up with an e-mail address.',
          },
        ],
      },
      attributeCollectionSubmit: {
        block: [
          {
            when: { emailDomain: { notIn: ['contoso.com'], onMissing: 'allow' } },
            message: 'Use your Contoso e-mail address.',
          },
        ],
      },
    })
    const federated = (event: Event) => {
      event.data.userSignUpInfo.identities = [
        { signInType: 'federated', issuer: 'google.com', issuerAssignedId: '1234567890' },
      ]
    }

    it('a deny list with onMissing "block" blocks a sign-up without a verified address', async () => {
      expect(await start(it$.endpoint, startEvent(federated))).toMatchObject({
        '@odata.type': `${START}.showBlockPage`,
      })
      expect(await start(it$.endpoint, startEvent())).toEqual({
        '@odata.type': `${START}.continueWithDefaultBehavior`,
      })
    })

    it('an allow list with onMissing "allow" lets it through, and still blocks other domains', async () => {
      expect(await submit(it$.endpoint, submitEvent(federated))).toEqual({
        '@odata.type': `${SUBMIT}.continueWithDefaultBehavior`,
      })
      expect(await submit(it$.endpoint, submitEvent())).toMatchObject({
        '@odata.type': `${SUBMIT}.showBlockPage`,
      })
    })
  })

  describe('an unconditional block rule', () => {
    const it$ = withConfig({
      attributeCollectionStart: {
        block: [{ title: 'Sign-up is closed', message: 'Registrations open again on 1 March.' }],
      },
    })
    it('always shows the block page', async () => {
      expect(await start(it$.endpoint, startEvent())).toEqual({
        '@odata.type': `${START}.showBlockPage`,
        title: 'Sign-up is closed',
        message: 'Registrations open again on 1 March.',
      })
    })
  })
})

describe('OnAttributeCollectionSubmit', () => {
  describe('with no sign-up configuration', () => {
    const it$ = withConfig({})
    it('continues with the default behaviour', async () => {
      expect(await submit(it$.endpoint, submitEvent())).toEqual({
        '@odata.type': `${SUBMIT}.continueWithDefaultBehavior`,
      })
    })
  })

  describe('attribute rules', () => {
    const it$ = withConfig({
      defaultLocale: 'en',
      attributeCollectionSubmit: {
        validationMessage: { en: 'Please fix the fields.', sv: 'Rätta fälten.' },
        attributes: {
          givenName: {
            required: true,
            maxLength: 5,
            normalize: ['trim', 'collapseSpaces'],
            messages: { required: { en: 'Enter your name.', sv: 'Ange ditt namn.' } },
          },
          city: { pattern: "[\\p{L} .'-]{2,40}", message: 'Use letters only.' },
          postalCode: { required: true }, // not on the page: read as empty
          [`${EXT}_interests`]: {
            multiValue: true,
            allowedValues: ['Hiking', 'Chess', 'Climbing'],
          },
          [`${EXT}_memberSince`]: { minimum: 1950, maximum: 2026 },
          [`${EXT}_terms`]: { mustBeTrue: true, message: { en: 'Accept the terms.' } },
          [`${EXT}_workEmail`]: { emailDomain: { allow: ['contoso.com', '*.contoso.com'] } },
          [`${EXT}_altEmail`]: { emailDomain: { deny: ['mailinator.com'] } },
          country: { allowedValues: ['SE', 'NO'], normalize: ['trim', 'uppercase'] },
        },
      },
    })

    const valid = (event: Event) => {
      setAttribute(`${EXT}_terms`, true, 'booleanDirectoryAttributeValue')(event)
      setAttribute('postalCode', '211 20')(event)
    }

    it('continues when every rule passes; unknown attributes are left alone', async () => {
      const action = await submit(it$.endpoint, submitEvent(valid))
      expect(action).toEqual({ '@odata.type': `${SUBMIT}.continueWithDefaultBehavior` })
    })

    it('reports every failed attribute at once, keyed by the name as received, in the request locale', async () => {
      const event = submitEvent((e) => {
        setAttribute('givenName', '   ')(e)
        setAttribute('city', 'Malmö 2')(e)
        setAttribute(`${EXT}_interests`, 'Hiking,Knitting')(e)
        setAttribute(`${EXT}_memberSince`, 1900, 'int64DirectoryAttributeValue')(e)
        setAttribute(`${EXT}_terms`, false, 'booleanDirectoryAttributeValue')(e)
        setAttribute(`${EXT}_workEmail`, 'kim@contoso.com.evil.example')(e)
        setAttribute(`${EXT}_altEmail`, 'kim@mailinator.com')(e)
        setAttribute('country', 'dk')(e)
        setAttribute('postalCode', '')(e) // on the page, left empty
      })
      const action = await submit(it$.endpoint, event)
      expect(action).toEqual({
        '@odata.type': `${SUBMIT}.showValidationError`,
        message: 'Rätta fälten.',
        attributeErrors: {
          givenName: 'Ange ditt namn.',
          city: 'Use letters only.',
          postalCode: 'This field is required.',
          [`${EXT}_interests`]: 'Choose one of the offered values.',
          [`${EXT}_memberSince`]: 'Enter a whole number from 1950 to 2026.',
          [`${EXT}_terms`]: 'Accept the terms.',
          [`${EXT}_workEmail`]: 'Use an e-mail address from an accepted domain.',
          [`${EXT}_altEmail`]: 'Use an e-mail address from an accepted domain.',
          country: 'Choose one of the offered values.',
        },
      })
    })

    it('falls back from an unknown locale, and from no locale, to the default language', async () => {
      for (const locale of ['de-de', null]) {
        const action = await submit(
          it$.endpoint,
          submitEvent((e) => {
            setLocale(locale)(e)
            setAttribute('givenName', '')(e)
            valid(e)
          }),
        )
        expect(action.message).toBe('Please fix the fields.')
        expect(action.attributeErrors).toEqual({ givenName: 'Enter your name.' })
      }
    })

    it('checks lengths in characters after normalisation, and patterns against the whole value', async () => {
      const action = await submit(
        it$.endpoint,
        submitEvent((e) => {
          valid(e)
          setAttribute('givenName', '  Åsa  ')(e) // 3 characters once trimmed
          setAttribute('city', 'Malmö; DROP')(e) // contains a match, but is not one
        }),
      )
      expect(action.attributeErrors).toEqual({ city: 'Use letters only.' })
      const tooLong = await submit(
        it$.endpoint,
        submitEvent((e) => {
          valid(e)
          setAttribute('givenName', 'Avery Lee')(e)
        }),
      )
      expect(tooLong.attributeErrors).toEqual({ givenName: 'Use at most 5 characters.' })
    })

    it('finding 10: rules for attributes this user flow does not collect are not applied', async () => {
      // One extension serves several user flows: this one collects neither the name nor terms.
      const action = await submit(
        it$.endpoint,
        submitEvent((e) => {
          valid(e)
          removeAttribute('givenName')(e)
          removeAttribute(`${EXT}_terms`)(e)
        }),
      )
      expect(action['@odata.type']).not.toBe(`${SUBMIT}.showValidationError`)
      expect(action).not.toHaveProperty('attributeErrors')
    })

    it('fails a terms box that is unticked or the string "false"', async () => {
      for (const edit of [
        setAttribute(`${EXT}_terms`, false, 'booleanDirectoryAttributeValue'),
        setAttribute(`${EXT}_terms`, 'false'),
      ]) {
        const action = await submit(
          it$.endpoint,
          submitEvent((e) => {
            valid(e)
            edit(e)
          }),
        )
        expect(action.attributeErrors).toEqual({ [`${EXT}_terms`]: 'Accept the terms.' })
      }
    })

    it('answers modifyAttributeValues with only the normalised attributes that changed', async () => {
      const action = await submit(
        it$.endpoint,
        submitEvent((e) => {
          valid(e)
          setAttribute('givenName', '  Ava ')(e)
          setAttribute('country', ' se')(e)
        }),
      )
      expect(action).toEqual({
        '@odata.type': `${SUBMIT}.modifyAttributeValues`,
        attributes: { givenName: 'Ava', country: 'SE' },
      })
    })

    it('accepts a multi-value attribute sent as an array and answers a comma-delimited string', async () => {
      const asArray = submitEvent((e) => {
        valid(e)
        setAttribute(`${EXT}_interests`, ['Hiking', 'Chess'])(e)
      })
      expect(await submit(it$.endpoint, asArray)).toEqual({
        '@odata.type': `${SUBMIT}.continueWithDefaultBehavior`,
      })
    })

    it('logs the names of failed attributes, never their values', async () => {
      await submit(
        it$.endpoint,
        submitEvent((e) => {
          valid(e)
          setAttribute(`${EXT}_altEmail`, 'kim@mailinator.com')(e)
        }),
      )
      const line = it$.endpoint.logs.findLast((l) => l.event === 'sign_up_invalid')
      expect(line?.fields).toEqual({
        correlationId: expect.any(String),
        attributes: `${EXT}_altEmail`,
      })
      expect(JSON.stringify(it$.endpoint.logs)).not.toContain('kim@')
    })
  })

  describe('normalisation of multi-value attributes', () => {
    const it$ = withConfig({
      attributeCollectionSubmit: {
        attributes: {
          [`${EXT}_interests`]: { multiValue: true, normalize: ['lowercase'] },
          city: { normalize: ['uppercase'] },
        },
      },
    })

    it('normalises each item and joins them with commas; other attributes keep their values', async () => {
      const action = await submit(
        it$.endpoint,
        submitEvent(setAttribute(`${EXT}_interests`, ['Hiking', ' Chess'])),
      )
      expect(action).toEqual({
        '@odata.type': `${SUBMIT}.modifyAttributeValues`,
        attributes: { [`${EXT}_interests`]: 'hiking,chess', city: 'MALMÖ' },
      })
    })
  })

  describe('block rules', () => {
    const it$ = withConfig({
      attributeCollectionSubmit: {
        attributes: { country: { normalize: ['uppercase'], required: true } },
        block: [
          {
            when: { attributes: { country: { in: ['XX'] } } },
            title: "We can't sign you up",
            message: 'Sign-ups from this country are not accepted.',
          },
          {
            when: {
              emailDomain: { in: ['example.org'] },
              attributes: { [`${EXT}_newsletter`]: { in: [true] } },
            },
            message: 'Newsletter sign-ups from example.org are closed.',
          },
        ],
      },
    })

    it('blocks on an attribute value after normalisation, before the field checks', async () => {
      const action = await submit(it$.endpoint, submitEvent(setAttribute('country', 'xx')))
      expect(action).toEqual({
        '@odata.type': `${SUBMIT}.showBlockPage`,
        title: "We can't sign you up",
        message: 'Sign-ups from this country are not accepted.',
      })
    })

    it('requires every condition of a rule to hold', async () => {
      const withNewsletter = submitEvent((e) => {
        setAttribute('country', 'SE')(e)
        setAttribute(`${EXT}_newsletter`, true, 'booleanDirectoryAttributeValue')(e)
      })
      expect((await submit(it$.endpoint, withNewsletter)).message).toBe(
        'Newsletter sign-ups from example.org are closed.',
      )
      setEmail('kim@contoso.com')(withNewsletter)
      expect(await submit(it$.endpoint, withNewsletter)).toEqual({
        '@odata.type': `${SUBMIT}.continueWithDefaultBehavior`,
      })
    })

    it('shows field errors when no block rule holds', async () => {
      const action = await submit(it$.endpoint, submitEvent(setAttribute('country', ' ')))
      expect(action).toEqual({
        '@odata.type': `${SUBMIT}.showValidationError`,
        message: 'Please correct the highlighted fields.',
        attributeErrors: { country: 'This field is required.' },
      })
    })
  })
})
