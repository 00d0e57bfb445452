// OnOtpSend (custom e-mail OTP provider): everything the product knows of this event.
import { OtpSendConfigSchema } from '../../extension-config/otp-send.js'
import { defineEvent } from '../event.js'
import { otpSendRegistration } from './registration.js'
import { otpSendCode } from './code.js'
import { createOtpSendHandler } from './handler.js'
import {
  OTP_SEND,
  OTP_SEND_CONTINUE,
  OTP_SEND_RESPONSE_DATA,
  OtpSendEventSchema,
  OtpSendResponseSchema,
} from './schema.js'

export const otpSend = defineEvent({
  name: 'onOtpSend',
  type: OTP_SEND,
  request: OtpSendEventSchema,
  response: OtpSendResponseSchema,
  responseDataType: OTP_SEND_RESPONSE_DATA,
  actionTypes: [OTP_SEND_CONTINUE],
  config: {
    key: 'otpSend',
    schema: OtpSendConfigSchema.default({
      locales: ['en', 'sv', 'de', 'fr'],
      expiryMinutes: 10,
      timeoutMs: 1500,
      duplicateTtlSeconds: 600,
      rateLimit: { maxPerRecipient: 5, windowSeconds: 600 },
    }).describe('OnOtpSend (custom e-mail OTP provider).'),
  },
  registration: otpSendRegistration,
  fixtures: ['otp-send'],
  // The section is read with the mail settings at start-up (src/mail/mail-config.ts).
  createHandler: (_section, { otpMailing }) => createOtpSendHandler(otpMailing),
  code: otpSendCode,
})
