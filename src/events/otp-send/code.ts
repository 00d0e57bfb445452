// OnOtpSend for handlers written in code: the request's view and its actions.
import { EndpointError } from '../../errors.js'
import type { Mailer } from '../../mail/mailer.js'
import { eventView, type EventCode, type EventView } from '../event.js'
import { otpSent } from './actions.js'
import type { OtpSendEvent, OtpSendResponse } from './schema.js'

export interface OtpSendView extends EventView<OtpSendEvent> {
  /** Where the code goes. Personal data: never log it. */
  readonly email: string
  /** The one-time code. A secret: never log it. */
  readonly code: string
}

export interface OtpSendActions {
  /** Answer once the code is delivered (handed to the mail provider). */
  continue(): OtpSendResponse
  /**
   * The code was not delivered: answers 503 ERR_MAIL_UNAVAILABLE, so that a listener with
   * fallbackToMicrosoftProviderOnError has Entra send its own mail. `reason` goes to the log only.
   */
  fail(reason: string): never
  /** The provider MAIL_PROVIDER configures, when one is. */
  readonly mailer: Mailer | undefined
  /** The sender MAIL_FROM (or otpSend.from, with otpSend.fromName) configures, with the mailer. */
  readonly sender: { readonly from: string; readonly fromName: string | undefined } | undefined
}

export const otpSendCode: EventCode<OtpSendEvent, OtpSendView, OtpSendActions> = {
  view: (event) => ({
    ...eventView(event),
    email: event.data.otpContext.identifier,
    code: event.data.otpContext.oneTimeCode,
  }),
  actions: (_event, context, deps) => ({
    continue: otpSent,
    fail(reason) {
      context.log.warn('otp_not_sent', { reason })
      throw new EndpointError('ERR_MAIL_UNAVAILABLE', 'the one-time code was not delivered')
    },
    mailer: deps.otpMailing?.mailer,
    sender:
      deps.otpMailing === undefined
        ? undefined
        : { from: deps.otpMailing.config.from, fromName: deps.otpMailing.config.fromName },
  }),
}
