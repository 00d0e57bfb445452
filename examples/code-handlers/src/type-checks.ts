// Compile-time guarantees of the API, kept honest by `tsc --noEmit` (npm test): every expected
// error below must occur, or the type check fails. Never built or run.
import {
  authenticationEvents,
  type AttributeCollectionSubmitActions,
  type HandlerOf,
} from 'entra-auth-extension'
import { invoke, sampleEvent } from 'entra-auth-extension/testing'

type SubmitAnswer = ReturnType<AttributeCollectionSubmitActions['continue']>

export const tokenWithBlockPage: HandlerOf<'onTokenIssuanceStart'> = (_event, ctx) =>
  // @ts-expect-error: showBlockPage is an action of the sign-up events, not of token issuance
  ctx.showBlockPage('Closed')

export const tokenWithFail: HandlerOf<'onTokenIssuanceStart'> = (_event, ctx) =>
  // @ts-expect-error: fail() is OnOtpSend's (a token issuance handler throws instead)
  ctx.fail('no')

export const claimOfWrongType: HandlerOf<'onTokenIssuanceStart'> = (_event, ctx) =>
  // @ts-expect-error: a claim is a string or an array of strings
  ctx.provideClaims({ level: 3 })

export function startAnsweringLikeSubmit(submitAnswer: SubmitAnswer) {
  // @ts-expect-error: a Submit answer is no Start answer
  const handler: HandlerOf<'onAttributeCollectionStart'> = () => submitAnswer
  return handler
}

export const startWithValidationError: HandlerOf<'onAttributeCollectionStart'> = (_event, ctx) =>
  // @ts-expect-error: validation errors belong to Submit; Start can only block or prefill
  ctx.showValidationError('Check the form', {})

export const prefillWithObject: HandlerOf<'onAttributeCollectionStart'> = (_event, ctx) =>
  // @ts-expect-error: a prefill value is a string, a number or a boolean
  ctx.setPrefillValues({ city: { name: 'Malmö' } })

export const submitWithClaims: HandlerOf<'onAttributeCollectionSubmit'> = (_event, ctx) =>
  // @ts-expect-error: claims go into tokens, from OnTokenIssuanceStart only
  ctx.provideClaims({})

export function handlerOfAnotherEvent(otp: HandlerOf<'onOtpSend'>) {
  // @ts-expect-error: an OnOtpSend handler cannot handle token issuance
  return authenticationEvents().onTokenIssuanceStart(otp)
}

export const viewFields: HandlerOf<'onOtpSend'> = (event, ctx) => {
  const email: string = event.email
  const code: string = event.code
  // @ts-expect-error: the OTP view has no user (that is token issuance's)
  const user: unknown = event.user
  void [email, code, user]
  return ctx.continue()
}

export async function testingHelpers() {
  const events = authenticationEvents()
  // @ts-expect-error: no such event
  await invoke(events, 'onSignIn', {})
  sampleEvent('onAttributeCollectionSubmit', {
    // @ts-expect-error: an override has the types of the event it changes
    data: { authenticationContext: { correlationId: 5 } },
  })
}
