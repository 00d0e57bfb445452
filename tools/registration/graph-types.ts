// The Microsoft Graph shapes the registration tools send and read, from Microsoft's published
// types: `@microsoft/microsoft-graph-types` for v1.0 calls, `@microsoft/microsoft-graph-types-beta`
// for beta calls. A body is written as `{ … } satisfies Typed<v1.X, '#microsoft.graph.x'>`, so
// that a property the schema lacks is a compile error. Graph's types give polymorphic properties
// their base type (endpointConfiguration is a customExtensionEndpointConfiguration, which has no
// property), so what is read names the derived type Graph answers with (httpRequestEndpoint).
//
// OnPasswordSubmit's resources (onPasswordSubmitCustomExtension, onPasswordSubmitListener,
// onPasswordMigrationCustomExtensionHandler) are in Graph beta's schema but not yet in the beta
// types package (0.44.0-preview): they are declared below from the base types the package has, with
// only the properties the contract (§6b) names.
import type * as v1 from '@microsoft/microsoft-graph-types'
import type * as beta from '@microsoft/microsoft-graph-types-beta'

/** An object as Graph names its type: the schema's properties, and its `@odata.type`. */
export type Typed<T, Type extends string = string> = T & { readonly '@odata.type': Type }

/** What every object read back has. */
interface WithId {
  readonly id: string
}

type Override<T, With> = Omit<T, keyof With> & With

export type Version = 'v1.0' | 'beta'

// ---- sent ------------------------------------------------------------------------------------

export type HttpRequestEndpointBody = Typed<
  v1.HttpRequestEndpoint,
  '#microsoft.graph.httpRequestEndpoint'
>
export type AzureAdTokenAuthenticationBody = Typed<
  v1.AzureAdTokenAuthentication,
  '#microsoft.graph.azureAdTokenAuthentication'
>
export type FallbackBody = Typed<
  v1.FallbackToMicrosoftProviderOnError,
  '#microsoft.graph.fallbackToMicrosoftProviderOnError'
>

/**
 * A customAuthenticationExtension as register writes it. Its type is an event's (from the
 * descriptor); claimsForTokenConfiguration is onTokenIssuanceStartCustomExtension's.
 */
export type ExtensionBody = Typed<
  Override<
    v1.CustomAuthenticationExtension,
    {
      endpointConfiguration?: HttpRequestEndpointBody
      authenticationConfiguration?: AzureAdTokenAuthenticationBody
      behaviorOnError?: FallbackBody
    }
  > &
    Pick<v1.OnTokenIssuanceStartCustomExtension, 'claimsForTokenConfiguration'>
>

/** The per-listener settings of a custom extension handler (customExtensionOverwriteConfiguration). */
export type HandlerConfigurationBody = Override<
  v1.CustomExtensionOverwriteConfiguration,
  { behaviorOnError?: FallbackBody }
>

/** onPasswordMigrationCustomExtensionHandler (beta; not in the types package yet). */
export interface OnPasswordMigrationCustomExtensionHandler {
  customExtension?: beta.NullableOption<{ id?: string }>
  /** extension_{b2c-extensions-app appId without dashes}_{name} */
  migrationPropertyId?: beta.NullableOption<string>
}

/** A listener's handler: a custom extension handler of v1.0, or the migration handler of beta. */
export type HandlerBody = Typed<
  Override<
    v1.OnTokenIssuanceStartCustomExtensionHandler,
    { customExtension?: { id: string }; configuration?: HandlerConfigurationBody }
  >
> &
  Typed<Omit<OnPasswordMigrationCustomExtensionHandler, 'customExtension'>>

/** An authenticationEventListener as register writes it (through v1.0: no priority). */
export type ListenerBody = Typed<
  Override<
    v1.AuthenticationEventListener,
    { conditions?: v1.AuthenticationConditions; handler?: HandlerBody }
  >
>

export type ApplicationBody = Override<
  v1.Application,
  { api?: v1.ApiApplication | null; requiredResourceAccess?: v1.RequiredResourceAccess[] }
>
export type ServicePrincipalBody = v1.ServicePrincipal
export type AppRoleAssignmentBody = v1.AppRoleAssignment
export type ClaimsMappingPolicyBody = v1.ClaimsMappingPolicy
export type ExtensionPropertyBody = v1.ExtensionProperty
export type KeyCredentialBody = v1.KeyCredential
/** POST …/claimsMappingPolicies/$ref */
export interface ReferenceBody {
  readonly '@odata.id': string
}

// ---- read ------------------------------------------------------------------------------------

export type ReadOrganization = WithId & Pick<v1.Organization, 'tenantType' | 'displayName'>
export type ReadServicePrincipal = WithId &
  Pick<v1.ServicePrincipal, 'appId' | 'displayName' | 'accountEnabled'>
export type ReadAppRoleAssignment = Pick<
  v1.AppRoleAssignment,
  'id' | 'appRoleId' | 'resourceId' | 'principalId'
>
export type ReadClaimsMappingPolicy = WithId &
  Pick<v1.ClaimsMappingPolicy, 'displayName' | 'definition' | 'isOrganizationDefault'>
export type ReadKeyCredential = Readonly<v1.KeyCredential>
export type ReadApplication = WithId & { readonly appId: string } & Readonly<
    Pick<
      v1.Application,
      | 'displayName'
      | 'uniqueName'
      | 'signInAudience'
      | 'identifierUris'
      | 'api'
      | 'requiredResourceAccess'
      | 'keyCredentials'
      | 'tokenEncryptionKeyId'
    >
  >
export type ReadExtensionProperty = WithId &
  Pick<v1.ExtensionProperty, 'name' | 'dataType' | 'targetObjects'>

/** A customAuthenticationExtension as v1.0 (or beta, for a beta-only type) answers it. */
export type ReadExtension = WithId & {
  readonly '@odata.type'?: string
} & Readonly<
    Override<
      v1.CustomAuthenticationExtension,
      {
        endpointConfiguration?: v1.NullableOption<v1.HttpRequestEndpoint>
        authenticationConfiguration?: v1.NullableOption<v1.AzureAdTokenAuthentication>
        behaviorOnError?: v1.NullableOption<{ readonly '@odata.type'?: string }>
      }
    > &
      Pick<v1.OnTokenIssuanceStartCustomExtension, 'claimsForTokenConfiguration'>
  >

/** A listener as beta answers it: priority and includeAllApplications are beta's. */
export type ReadListener = WithId & {
  readonly '@odata.type'?: string
} & Readonly<
    Override<
      beta.AuthenticationEventListener,
      {
        conditions?: beta.NullableOption<{
          applications?: beta.NullableOption<beta.AuthenticationConditionsApplications>
        }>
        handler?: beta.NullableOption<
          { readonly '@odata.type'?: string } & Override<
            beta.OnTokenIssuanceStartCustomExtensionHandler,
            {
              customExtension?: beta.NullableOption<{ id?: string | null }>
              configuration?: beta.NullableOption<
                Override<
                  beta.CustomExtensionOverwriteConfiguration,
                  { behaviorOnError?: beta.NullableOption<{ readonly '@odata.type'?: string }> }
                >
              >
            }
          > &
            Pick<OnPasswordMigrationCustomExtensionHandler, 'migrationPropertyId'>
        >
      }
    >
  >
