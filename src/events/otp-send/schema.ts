// OnOtpSend: deliver a one-time passcode (contract §6). The code and the address are secrets of the
// user: never logged, never echoed.
import { isIPv4 } from 'node:net'
import { domainToASCII } from 'node:url'
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

/** A character outside ASCII (RFC 6532), but no control or format character (bidi marks,
 * zero-width), lone surrogate, private-use or unassigned code point, nor a separator. */
const NON_ASCII = String.raw`[^\x00-\x7F\p{C}\p{Z}]`
/** RFC 5322 atext. The specials ( ) < > [ ] : ; , " \ @ are out: a mail library reads them as
 * address-list syntax (a display name, a group, a comment, a second address). */
const LOCAL_CHAR = `(?:[A-Za-z0-9!#$%&'*+\\-/=?^_\`{|}~]|${NON_ASCII})`
const DOMAIN_CHAR = String.raw`(?:[A-Za-z0-9]|${NON_ASCII})`
/**
 * One address, and nothing a mail library could read as more: a dot-atom local part, "@", and
 * dot-separated labels that start and end with a letter or digit (hyphens inside; IDN letters
 * anywhere). No quoted local parts, no address literals. Unambiguous, so it runs in linear time.
 */
const ADDRESS_PATTERN = new RegExp(
  `^${LOCAL_CHAR}+(?:\\.${LOCAL_CHAR}+)*@${DOMAIN_CHAR}(?:-*${DOMAIN_CHAR})*(?:\\.${DOMAIN_CHAR}(?:-*${DOMAIN_CHAR})*)*$`,
  'u',
)

/** A host name as DNS writes it: letters, digits and inner hyphens, in labels of 1-63. */
const ASCII_DOMAIN =
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i

/**
 * The pattern, and a domain whose IDNA mapping is a DNS host name and not an IPv4 address: mail
 * libraries map the domain as a URL host would, so "a@2130706433" or "a@１２７.０.０.１" is sent
 * to 127.0.0.1, and a compatibility character can map to punctuation ("🄁" is "0,").
 */
export function isRecipientAddress(value: string): boolean {
  // 320 code points (the bound zod counts in) are at most 640 UTF-16 units: no regex on more.
  if (value.length > 640 || !ADDRESS_PATTERN.test(value)) return false
  const domain = domainToASCII(value.slice(value.lastIndexOf('@') + 1))
  return ASCII_DOMAIN.test(domain) && !isIPv4(domain)
}

export const OtpSendEventSchema = eventSchema(OTP_SEND, OTP_SEND_DATA, {
  otpContext: z.preprocess(
    normaliseOtpContextKeys,
    z.object({
      // The recipient's e-mail address (RFC 5321 bound). Only its shape is checked (the provider
      // judges the rest), strictly enough that the code goes to this one address and nowhere
      // else: nothing can be smuggled into a mail header or the recipient list.
      identifier: z
        .string()
        .min(3)
        .max(320)
        .refine(isRecipientAddress, 'must be an e-mail address'),
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
