// Schema parts shared by the four events: the request envelope and the response envelope.
// Inbound: z.object (unknown fields are dropped, since Microsoft adds fields over time), every
// string and array bounded, and an absent value may also arrive as null (Graph objects carry null
// for unset properties): .nullish(), read as absent. Outbound: z.strictObject, because we own that shape and Entra is exact.
import * as z from 'zod'

export const GUID_PATTERN =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/

/**
 * An inbound member that Entra may leave out or send as null (Graph writes null for an unset
 * property): both read as absent, so that the schema's default applies to either.
 */
export function nullAsAbsent<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === null ? undefined : value), schema)
}

/** A directory object id. Tolerant on shape (ids are GUIDs today), strict on length. */
export const IdSchema = z.string().max(64)

const ServicePrincipalSchema = z.object({
  id: IdSchema.nullish(),
  appId: IdSchema.nullish(),
  appDisplayName: z.string().max(256).nullish(),
  displayName: z.string().max(256).nullish(),
})

export const ClientSchema = z.object({
  ip: z.string().max(64).nullish(), // IPv4 or IPv6 (contract §3); personal data: never logged
  locale: z.string().max(64).nullish(),
  market: z.string().max(64).nullish(),
})

export const AuthenticationContextSchema = z.object({
  // A GUID, and the one request value that is logged: the pattern keeps log lines clean.
  correlationId: z.string().regex(GUID_PATTERN, 'must be a GUID'),
  client: ClientSchema.nullish(),
  protocol: z.string().max(32).nullish(), // OAUTH2.0, SAML (informational)
  requestType: z.string().max(64).nullish(), // signUp, SignIn, … (contract §9.13: informational)
  clientServicePrincipal: ServicePrincipalSchema.nullish(),
  resourceServicePrincipal: ServicePrincipalSchema.nullish(),
})
export type AuthenticationContext = z.infer<typeof AuthenticationContextSchema>

const EventDataBaseSchema = z.object({
  // Contract §9.6: may differ from the tenant in `source`; the token's tid is the authority.
  tenantId: IdSchema.nullish(),
  authenticationEventListenerId: IdSchema.nullish(),
  customAuthenticationExtensionId: IdSchema.nullish(),
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
    source: z.string().max(512).nullish(),
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
