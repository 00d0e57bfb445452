// The four routes, each bound to exactly one event type and its request and response schemas.
// Hosts register these names under /api/ (contract §3 table).
import type * as z from 'zod'
import {
  ATTRIBUTE_COLLECTION_START,
  AttributeCollectionStartEventSchema,
  AttributeCollectionStartResponseSchema,
} from './attribute-collection-start/schema.js'
import {
  ATTRIBUTE_COLLECTION_SUBMIT,
  AttributeCollectionSubmitEventSchema,
  AttributeCollectionSubmitResponseSchema,
} from './attribute-collection-submit/schema.js'
import type { HandlerContext } from './handler-context.js'
import { OTP_SEND, OtpSendEventSchema, OtpSendResponseSchema } from './otp-send/schema.js'
import {
  TOKEN_ISSUANCE_START,
  TokenIssuanceStartEventSchema,
  TokenIssuanceStartResponseSchema,
} from './token-issuance-start/schema.js'

export const EVENT_ROUTES = {
  onTokenIssuanceStart: {
    type: TOKEN_ISSUANCE_START,
    request: TokenIssuanceStartEventSchema,
    response: TokenIssuanceStartResponseSchema,
  },
  onAttributeCollectionStart: {
    type: ATTRIBUTE_COLLECTION_START,
    request: AttributeCollectionStartEventSchema,
    response: AttributeCollectionStartResponseSchema,
  },
  onAttributeCollectionSubmit: {
    type: ATTRIBUTE_COLLECTION_SUBMIT,
    request: AttributeCollectionSubmitEventSchema,
    response: AttributeCollectionSubmitResponseSchema,
  },
  onOtpSend: { type: OTP_SEND, request: OtpSendEventSchema, response: OtpSendResponseSchema },
} as const

export type EventRoute = keyof typeof EVENT_ROUTES
export const EVENT_ROUTE_NAMES = Object.keys(EVENT_ROUTES) as EventRoute[]

/** One handler per route; a missing one is a compile error in the composition root. */
export type EventHandlers = {
  readonly [R in EventRoute]: (
    event: z.infer<(typeof EVENT_ROUTES)[R]['request']>,
    context: HandlerContext,
  ) => Promise<z.infer<(typeof EVENT_ROUTES)[R]['response']>>
}

export function routeForEventType(type: string): EventRoute | undefined {
  return EVENT_ROUTE_NAMES.find((route) => EVENT_ROUTES[route].type === type)
}

export function isEventRoute(name: string): name is EventRoute {
  return Object.hasOwn(EVENT_ROUTES, name)
}
