// Schema parts shared by the four events: the request envelope and the response envelope.
// Inbound: z.object (unknown fields are dropped, since Microsoft adds fields over time), every
// string and array bounded. Outbound: z.strictObject, because we own that shape and Entra is exact.
import * as z from 'zod'

export const GUID_PATTERN =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/** A directory object id. Tolerant on shape (ids are GUIDs today), strict on length. */
export const IdSchema = z.string().max(64)

const ServicePrincipalSchema = z.object({
  id: IdSchema.optional(),
  appId: IdSchema.optional(),
  appDisplayName: z.string().max(256).optional(),
  displayName: z.string().max(256).optional(),
})

export const ClientSchema = z.object({
  ip: z.string().max(64).optional(), // IPv4 or IPv6 (contract §3); personal data: never logged
  locale: z.string().max(64).optional(),
  market: z.string().max(64).optional(),
})

export const AuthenticationContextSchema = z.object({
  // A GUID, and the one request value that is logged: the pattern keeps log lines clean.
  correlationId: z.string().regex(GUID_PATTERN, 'must be a GUID'),
  client: ClientSchema.optional(),
  protocol: z.string().max(32).optional(), // OAUTH2.0, SAML (informational)
  requestType: z.string().max(64).optional(), // signUp, SignIn, … (contract §9.13: informational)
  clientServicePrincipal: ServicePrincipalSchema.optional(),
  resourceServicePrincipal: ServicePrincipalSchema.optional(),
})
export type AuthenticationContext = z.infer<typeof AuthenticationContextSchema>

const EventDataBaseSchema = z.object({
  // Contract §9.6: may differ from the tenant in `source`; the token's tid is the authority.
  tenantId: IdSchema.optional(),
  authenticationEventListenerId: IdSchema.optional(),
  customAuthenticationExtensionId: IdSchema.optional(),
  authenticationContext: AuthenticationContextSchema,
})

/** `{ type, source, data: { "@odata.type", tenantId, …, authenticationContext, …event fields } }` */
export function eventSchema<
  const Type extends string,
  const DataType extends string,
  Shape extends z.ZodRawShape,
>(type: Type, dataType: DataType, dataShape: Shape) {
  return z.object({
    type: z.literal(type),
    source: z.string().max(512).optional(),
    data: EventDataBaseSchema.extend({ '@odata.type': z.literal(dataType) }).extend(dataShape),
  })
}

/** `{ data: { "@odata.type", actions: [exactly one action] } }` (contract §1: exactly one action). */
export function responseSchema<const DataType extends string, Action extends z.ZodType>(
  dataType: DataType,
  action: Action,
) {
  return z.strictObject({
    data: z.strictObject({
      '@odata.type': z.literal(dataType),
      actions: z.tuple([action]),
    }),
  })
}

/** The outbound action shape: `{ "@odata.type": <type>, …fields }`, nothing else. */
export function actionSchema<const ActionType extends string, Shape extends z.ZodRawShape>(
  type: ActionType,
  shape: Shape,
) {
  return z.strictObject({ '@odata.type': z.literal(type) }).extend(shape)
}
