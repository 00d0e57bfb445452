// The package's API as a user's code sees it: authenticationEvents() with a handler per event,
// run through the whole pipeline by the testing helpers (in-process) and by serve() (real sockets).
import { HttpRequest, InvocationContext } from '@azure/functions'
import { describe, expect, it } from 'vitest'
import {
  authenticationEvents,
  type AttributeCollectionStartActions,
  type FunctionsApp,
} from '../../functions/index.js'
import { devToken, invoke, sampleEvent } from '../../src/testing/index.js'
import { capturingLogger, writeExtensionConfig, type LogLine } from '../support/endpoint.js'

const TOKEN = 'microsoft.graph.tokenIssuanceStart.provideClaimsForToken'
const SUBMIT = 'microsoft.graph.attributeCollectionSubmit'
const START = 'microsoft.graph.attributeCollectionStart'

/** No tenant: the helpers run in dev mode; the shipped example configuration applies. */
const devEnv = { PATH: process.env.PATH ?? '' }

describe('a handler per event, through invoke()', () => {
  it('OnTokenIssuanceStart: claims from code', async () => {
    const events = authenticationEvents({ env: devEnv }).onTokenIssuanceStart(
      async (event, ctx) => {
        await Promise.resolve()
        return ctx.provideClaims({ roles: ['Reader'], userId: event.user.id ?? 'none' })
      },
    )
    const res = await invoke(events, 'onTokenIssuanceStart', sampleEvent('onTokenIssuanceStart'))
    expect(res).toEqual({
      status: 200,
      body: {
        data: {
          '@odata.type': 'microsoft.graph.onTokenIssuanceStartResponseData',
          actions: [
            {
              '@odata.type': TOKEN,
              claims: { roles: ['Reader'], userId: '7d3c6f2a-0b1e-4c55-9a0e-3f6b2d9e8a11' },
            },
          ],
        },
      },
    })
  })

  it('OnAttributeCollectionSubmit: a postal-code check', async () => {
    const events = authenticationEvents({ env: devEnv }).onAttributeCollectionSubmit(
      (event, ctx) =>
        /^\d{5}$/.test(String(event.attributes.postalCode ?? ''))
          ? ctx.continue()
          : ctx.showValidationError('Please check the form', { postalCode: 'Five digits, please' }),
    )
    const withCode = (postalCode: string) =>
      sampleEvent('onAttributeCollectionSubmit', {
        data: {
          userSignUpInfo: {
            attributes: {
              postalCode: {
                '@odata.type': 'microsoft.graph.stringDirectoryAttributeValue',
                value: postalCode,
              },
            },
          },
        },
      })
    expect((await invoke(events, 'onAttributeCollectionSubmit', withCode('21120'))).body).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onAttributeCollectionSubmitResponseData',
        actions: [{ '@odata.type': `${SUBMIT}.continueWithDefaultBehavior` }],
      },
    })
    expect((await invoke(events, 'onAttributeCollectionSubmit', withCode('211'))).body).toEqual({
      data: {
        '@odata.type': 'microsoft.graph.onAttributeCollectionSubmitResponseData',
        actions: [
          {
            '@odata.type': `${SUBMIT}.showValidationError`,
            message: 'Please check the form',
            attributeErrors: { postalCode: 'Five digits, please' },
          },
        ],
      },
    })
  })

  it('OnAttributeCollectionStart: prefill from the verified address', async () => {
    const events = authenticationEvents({ env: devEnv }).onAttributeCollectionStart((event, ctx) =>
      event.verifiedEmail?.endsWith('@example.org') === true
        ? ctx.setPrefillValues({ city: 'Malmö' })
        : ctx.showBlockPage('Not yet.', 'Closed'),
    )
    const res = await invoke(
      events,
      'onAttributeCollectionStart',
      sampleEvent('onAttributeCollectionStart'),
    )
    expect(res.body).toMatchObject({
      data: {
        actions: [{ '@odata.type': `${START}.setPrefillValues`, inputs: { city: 'Malmö' } }],
      },
    })
  })

  it('OnOtpSend: the code handed to code, ctx.continue() once sent, ctx.fail() a 503', async () => {
    const sent: { email: string; code: string }[] = []
    let deliver = true
    const events = authenticationEvents({ env: devEnv }).onOtpSend((event, ctx) => {
      if (!deliver) ctx.fail('our template service is down')
      sent.push({ email: event.email, code: event.code })
      return ctx.continue()
    })
    const body = sampleEvent('onOtpSend')
    expect((await invoke(events, 'onOtpSend', body)).status).toBe(200)
    expect(sent).toEqual([{ email: 'avery@example.org', code: '48213907' }])
    deliver = false
    expect(await invoke(events, 'onOtpSend', body)).toEqual({
      status: 503,
      body: {
        error: { code: 'ERR_MAIL_UNAVAILABLE', message: 'the one-time code was not delivered' },
      },
    })
  })

  it('ctx.defaults() is the EXTENSION_CONFIG answer, which code may extend', async () => {
    const events = authenticationEvents({ env: devEnv }).onTokenIssuanceStart(async (_e, ctx) => {
      const defaults = await ctx.defaults()
      const [action] = defaults.data.actions
      return ctx.provideClaims({ ...action.claims, extra: 'from code' })
    })
    const res = await invoke(events, 'onTokenIssuanceStart', sampleEvent('onTokenIssuanceStart'))
    // The shipped example configuration gives apiVersion 1.0.0, among others.
    expect(res.body).toMatchObject({
      data: { actions: [{ claims: { apiVersion: '1.0.0', extra: 'from code' } }] },
    })
  })

  it('events without a handler keep their EXTENSION_CONFIG behaviour', async () => {
    const config = writeExtensionConfig({
      attributeCollectionStart: { block: [{ message: 'Sign-up is closed.' }] },
    })
    const events = authenticationEvents({ env: { ...devEnv, EXTENSION_CONFIG: config } })
    const res = await invoke(
      events,
      'onAttributeCollectionStart',
      sampleEvent('onAttributeCollectionStart'),
    )
    expect(res.body).toMatchObject({
      data: {
        actions: [{ '@odata.type': `${START}.showBlockPage`, message: 'Sign-up is closed.' }],
      },
    })
  })
})

describe('what goes wrong in a handler', () => {
  it('a throw answers 500 ERR_INTERNAL without the message, which goes to the log', async () => {
    const logs: LogLine[] = []
    const secret = 'user 7d3c6f2a was not found in CRM'
    const events = authenticationEvents({
      env: devEnv,
      log: capturingLogger(logs),
    }).onTokenIssuanceStart(() => {
      throw new Error(secret)
    })
    const res = await invoke(events, 'onTokenIssuanceStart', sampleEvent('onTokenIssuanceStart'))
    expect(res).toEqual({
      status: 500,
      body: { error: { code: 'ERR_INTERNAL', message: 'internal error' } },
    })
    expect(JSON.stringify(res.body)).not.toContain('CRM')
    expect(logs).toContainEqual({
      level: 'error',
      event: 'handler_failed',
      fields: {
        correlationId: '44444444-5555-4666-8777-888888888801',
        handler: 'onTokenIssuanceStart',
        error: 'Error',
        message: secret,
      },
    })
  })

  it('a hang answers 504 within the budget', async () => {
    const events = authenticationEvents({ env: devEnv }).onTokenIssuanceStart(
      () => new Promise(() => undefined),
    )
    const started = performance.now()
    const res = await invoke(events, 'onTokenIssuanceStart', sampleEvent('onTokenIssuanceStart'), {
      env: { REQUEST_BUDGET_MS: '150' },
    })
    expect(res.status).toBe(504)
    expect(res.body).toMatchObject({ error: { code: 'ERR_DEADLINE_EXCEEDED' } })
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('another event’s answer is a compile error, and at run time a 500 ERR_INVALID_RESPONSE', async () => {
    const events = authenticationEvents({ env: devEnv }).onTokenIssuanceStart((_e, ctx) => {
      if (Math.random() > 2) {
        // @ts-expect-error: OnTokenIssuanceStart has no showBlockPage (never runs: types only)
        // eslint-disable-next-line @typescript-eslint/no-unsafe-call -- the line is a type error on purpose
        ctx.showBlockPage('no')
      }
      const other = sampleEvent('onAttributeCollectionStart') as unknown
      return other as ReturnType<typeof ctx.provideClaims>
    })
    // Type checks only (the handler never runs): a Start answer is no OnTokenIssuanceStart answer.
    const startAnswer = {} as ReturnType<AttributeCollectionStartActions['continue']>
    authenticationEvents()
      // @ts-expect-error: returning another event's action
      .onTokenIssuanceStart(() => startAnswer)
    const res = await invoke(events, 'onTokenIssuanceStart', sampleEvent('onTokenIssuanceStart'))
    expect(res.status).toBe(500)
    expect(res.body).toMatchObject({ error: { code: 'ERR_INVALID_RESPONSE' } })
  })

  it('refuses a second handler for an event, and handlers added after serving', async () => {
    const events = authenticationEvents({ env: devEnv }).onOtpSend((_e, ctx) => ctx.continue())
    expect(() => events.onOtpSend((_e, ctx) => ctx.continue())).toThrow(/already registered/)
    await invoke(events, 'onOtpSend', sampleEvent('onOtpSend'))
    expect(() => events.onTokenIssuanceStart((_e, ctx) => ctx.provideClaims({}))).toThrow(
      /before register\(\) or serve\(\)/,
    )
  })

  it('without a token the answer is 401, as for Entra', async () => {
    const events = authenticationEvents({ env: devEnv })
    const res = await invoke(events, 'onOtpSend', sampleEvent('onOtpSend'), { token: null })
    expect(res.status).toBe(401)
  })
})

describe('serve() and register(app)', () => {
  it('serve() answers over real sockets in dev mode, with devToken(server)', async () => {
    const events = authenticationEvents({ env: devEnv, log: capturingLogger([]) })
    const server = await events
      .onTokenIssuanceStart((_e, ctx) => ctx.provideClaims({ served: 'yes' }))
      .serve({ host: '127.0.0.1', port: 0 })
    try {
      const res = await fetch(`${server.url}/api/onTokenIssuanceStart`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await devToken(server)}`,
        },
        body: JSON.stringify(sampleEvent('onTokenIssuanceStart')),
      })
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ data: { actions: [{ claims: { served: 'yes' } }] } })
    } finally {
      await server.close()
    }
  })

  it('register(app) streams bodies and registers each route with the code handler', async () => {
    const registered = new Map<string, (req: HttpRequest, ctx: InvocationContext) => unknown>()
    let setup: unknown
    const app = {
      setup: (options: unknown) => (setup = options),
      http: (
        name: string,
        options: { handler: (r: HttpRequest, c: InvocationContext) => unknown },
      ) => registered.set(name, options.handler),
    } as unknown as FunctionsApp
    authenticationEvents({ env: devEnv, log: capturingLogger([]) })
      .onTokenIssuanceStart((_e, ctx) => ctx.provideClaims({ via: 'functions' }))
      .register(app)
    expect(setup).toEqual({ enableHttpStream: true })
    expect([...registered.keys()]).toEqual([
      'onTokenIssuanceStart',
      'onAttributeCollectionStart',
      'onAttributeCollectionSubmit',
      'onOtpSend',
      'onPasswordSubmit',
      'health',
    ])
    // register() never runs in dev mode: with no tenant, every call is 500 ERR_CONFIG_INVALID.
    const handler = registered.get('onTokenIssuanceStart')
    const res = (await handler?.(
      new HttpRequest({
        method: 'POST',
        url: 'http://localhost/api/onTokenIssuanceStart',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await devToken()}`,
        },
        body: { string: JSON.stringify(sampleEvent('onTokenIssuanceStart')) },
      }),
      new InvocationContext(),
    )) as { status: number; body: string }
    expect(res.status).toBe(500)
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'ERR_CONFIG_INVALID' } })
  })
})
