// OnOtpSend: deliver a one-time passcode (contract §6). The code and the address are secrets of the
// user: never logged, never echoed.
import * as z from 'zod'
import { actionSchema, eventSchema, responseSchema } from '../common.js'

export const OTP_SEND = 'microsoft.graph.authenticationEvent.emailOtpSend'
export const OTP_SEND_DATA = 'microsoft.graph.onOtpSendCalloutData'
// Capitalised differently from every other type, exactly as documented (contract §9.3).
export const OTP_SEND_RESPONSE_DATA = 'microsoft.graph.OnOtpSendResponseData'
export const OTP_SEND_CONTINUE = 'microsoft.graph.OtpSend.continueWithDefaultBehavior'

/**
 * Contract §9.2: the reference spells the code `oneTimeCode`, Microsoft's sample reads
 * `onetimecode`: read the keys of otpContext case-insensitively.
 */
function normaliseOtpContextKeys(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(input)) {
    const lower = key.toLowerCase()
    if (lower === 'onetimecode') out.oneTimeCode ??= value
    else if (lower === 'identifier') out.identifier ??= value
  }
  return out
}

export const OtpSendEventSchema = eventSchema(OTP_SEND, OTP_SEND_DATA, {
  otpContext: z.preprocess(
    normaliseOtpContextKeys,
    z.object({
      // The recipient's e-mail address (RFC 5321 bound). Only its shape is checked: one "@",
      // something on each side, no spaces or control characters, so that nothing can be
      // smuggled into a mail header; the provider judges the rest.
      identifier: z
        .string()
        .min(3)
        .max(320)
        .regex(/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+$/u, 'must be an e-mail address'),
      oneTimeCode: z.string().min(1).max(64), // opaque short string (contract §6)
    }),
  ),
})
export type OtpSendEvent = z.infer<typeof OtpSendEventSchema>

export const OtpSendResponseSchema = responseSchema(
  OTP_SEND_RESPONSE_DATA,
  actionSchema(OTP_SEND_CONTINUE, {}),
)
export type OtpSendResponse = z.infer<typeof OtpSendResponseSchema>
