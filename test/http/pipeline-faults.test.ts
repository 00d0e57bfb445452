// Faults inside the pipeline that no configuration can cause today: a handler that answers outside
// the contract (our bug: 500) and one that outlives the deadline (504, with its work aborted).
// The handlers are deliberately broken; the token check and the key store are the real ones.
import { retryPassword } from '../../src/events/password-submit/actions.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSigningKeyStore } from '../../src/auth/signing-keys.js'
import { createCallerVerifier } from '../../src/auth/verify-caller.js'
import { continueSignUp } from '../../src/events/attribute-collection-start/actions.js'
import { continueSubmit } from '../../src/events/attribute-collection-submit/actions.js'
import type { HandlerContext } from '../../src/events/handler-context.js'
import { otpSent } from '../../src/events/otp-send/actions.js'
import type { EventHandlers } from '../../src/events/routes.js'
import { createRequestHandler } from '../../src/http/handle-request.js'
import { silentLogger } from '../../src/log.js'
import { capturingLogger, type LogLine } from '../support/endpoint.js'
import { fixture } from '../support/fixtures.js'
import { EXTENSION_APP_ID, startTestIssuer, type TestIssuer } from '../support/oidc-issuer.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await startTestIssuer()
})
afterAll(() => issuer.close())

async function pipelineWith(onTokenIssuanceStart: EventHandlers['onTokenIssuanceStart']) {
  const keys = createSigningKeyStore({
    issuers: [issuer.issuer],
    timeoutMs: 2000,
    cooldownMs: 30_000,
    log: silentLogger,
    now: Date.now,
  })
  await keys.warmUp()
  const verifier = createCallerVerifier({
    tenantId: issuer.tenantId,
    issuers: [issuer.issuer],
    audiences: [EXTENSION_APP_ID],
    clockToleranceSeconds: 60,
    keys,
    now: Date.now,
  })
  const handlers: EventHandlers = {
    onTokenIssuanceStart,
    onAttributeCollectionStart: () => Promise.resolve(continueSignUp()),
    onAttributeCollectionSubmit: () => Promise.resolve(continueSubmit()),
    onOtpSend: () => Promise.resolve(otpSent()),
    onPasswordSubmit: () => Promise.resolve(retryPassword('unused')),
  }
  return createRequestHandler({
    verifier,
    handlers,
    requestBudgetMs: 150,
    maxBodyBytes: 65_536,
    now: Date.now,
  })
}

async function call(handle: Awaited<ReturnType<typeof pipelineWith>>, logs: LogLine[] = []) {
  const request = new Request('http://localhost/api/onTokenIssuanceStart', {
    method: 'POST',
    headers: { authorization: `Bearer ${await issuer.mint()}`, 'content-type': 'application/json' },
    body: JSON.stringify(fixture('token-issuance-start')),
  })
  return handle('onTokenIssuanceStart', request, {
    log: capturingLogger(logs),
  })
}

describe('pipeline faults', () => {
  it('answers 500 ERR_INVALID_RESPONSE when a handler answers outside the contract, logging only types', async () => {
    const logs: LogLine[] = []
    const broken = (() =>
      Promise.resolve({
        data: { '@odata.type': 'microsoft.graph.onTokenIssuanceStartResponseData', actions: [] },
      })) as unknown as EventHandlers['onTokenIssuanceStart']
    const reply = await call(await pipelineWith(broken), logs)
    expect(reply.status).toBe(500)
    expect(JSON.parse(reply.body)).toEqual({
      error: { code: 'ERR_INVALID_RESPONSE', message: 'the answer does not match the contract' },
    })
    expect(logs.find((l) => l.event === 'request_failed')?.fields).toEqual({
      code: 'ERR_INVALID_RESPONSE',
      cause: 'ZodError',
    })
  })

  it('answers 500 ERR_INTERNAL to an unexpected throw, without its message', async () => {
    const throwing: EventHandlers['onTokenIssuanceStart'] = () =>
      Promise.reject(new TypeError('secret detail avery@example.org'))
    const reply = await call(await pipelineWith(throwing))
    expect(reply.status).toBe(500)
    expect(reply.body).toBe('{"error":{"code":"ERR_INTERNAL","message":"internal error"}}')
  })

  it('answers 504 ERR_DEADLINE_EXCEEDED when the handler outlives the budget, and aborts its work', async () => {
    let aborted = false
    const hanging: EventHandlers['onTokenIssuanceStart'] = (_event, context: HandlerContext) =>
      new Promise((_, reject) => {
        context.signal.addEventListener('abort', () => {
          aborted = true
          reject(new Error('aborted'))
        })
      })
    const reply = await call(await pipelineWith(hanging))
    expect(reply.status).toBe(504)
    expect(JSON.parse(reply.body)).toEqual({
      error: {
        code: 'ERR_DEADLINE_EXCEEDED',
        message: 'the request budget ran out before an answer was ready',
      },
    })
    expect(aborted).toBe(true)
  })
})
