// Every event the endpoint serves: one descriptor per folder, one line each. Routes, handlers, the
// EXTENSION_CONFIG schema and the registration objects are all derived from this list.
import { attributeCollectionStart } from './attribute-collection-start/event.js'
import { attributeCollectionSubmit } from './attribute-collection-submit/event.js'
import { otpSend } from './otp-send/event.js'
import { passwordSubmit } from './password-submit/event.js'
import { tokenIssuanceStart } from './token-issuance-start/event.js'

export const EVENTS = [
  tokenIssuanceStart,
  attributeCollectionStart,
  attributeCollectionSubmit,
  otpSend,
  passwordSubmit,
] as const

export type AnyEvent = (typeof EVENTS)[number]
