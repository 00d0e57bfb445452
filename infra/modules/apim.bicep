// Optional (main.bicep: deployApim): API Management in front of the Function App, checking Entra's
// bearer token with validate-jwt before a request reaches the function. Defence in depth only: the
// Authorization header is forwarded unchanged and the function still validates the token itself
// (src/auth/verify-caller.ts), so the Function App stays correct if called directly.
//
// Consumption SKU: enough for four POST operations, billed per call, no fixed cost. It has no
// static outbound IP and can cold-start; Entra waits at most timeoutInMilliseconds (<= 2000) for
// the whole call, gateway included.
//
// Registration: with APIM in front, the extension's targetUrl is the gateway URL (the eventUrls
// output), so its resourceId, the extension app's identifier URI, must be
// api://{gateway host}/{appId} (contract section 2), not api://{Function App host}/{appId}.
//
// Tokens: v2 only. The policy requires azp = the authentication events service; v1 tokens carry
// appid instead (and the issuer https://sts.windows.net/{tid}/, whose metadata URL is not
// {issuer}/.well-known/openid-configuration). An extension app that gets v1 tokens
// (requestedAccessTokenVersion not 2) must not enable this module, or must change the claim to
// appid and the issuers and openid-config URLs to the v1 ones.
//
// Relied on, not compiled here (no Bicep CLI offline): the Microsoft Learn API Management policy
// references "validate-jwt" (attributes, child order openid-config, audiences, issuers,
// required-claims; several openid-config elements allowed; the ciamlogin.com metadata URL form)
// and "set-backend-service" (base-url); the ARM template reference for Microsoft.ApiManagement
// service, service/apis, service/apis/operations and service/apis/policies (format 'rawxml'); the
// Bicep lambda (map, filter, join, reduce, items) and user-defined function docs.
// test/infra.test.ts checks this file offline (policy XML well-formed, its checks, the routes).

@minLength(1)
@maxLength(50)
@description('API Management service name (globally unique: letters, digits and hyphens).')
param name string

@description('Region of the service.')
param location string

@description('Tags of the service.')
param tags object = {}

@minLength(1)
@description('Publisher e-mail (API Management requires one; it receives service notifications).')
param publisherEmail string

@minLength(1)
@description('Publisher (organisation) name.')
param publisherName string

@description('The Function App\'s https base URL of the event routes, e.g. https://func-x.azurewebsites.net/api.')
param backendUrl string

@minLength(36)
@maxLength(36)
@description('ENTRA_TENANT_ID, as main.bicep passes it to the Function App.')
param entraTenantId string

@description('ENTRA_ISSUER, as main.bicep passes it: comma-separated v2 issuers; empty = the tenant\'s workforce and ciamlogin.com v2 issuers.')
param entraIssuer string = ''

@minLength(1)
@description('ENTRA_AUDIENCE, as main.bicep passes it: comma-separated accepted audiences.')
param entraAudience string

// The event routes (infra/events.json, generated from src/events by npm run schema), each a POST
// under /api like on the Function App.
var routes = loadJsonContent('../events.json').routes
var apiPath = 'api'

// The same lists the endpoint derives (src/config.ts): comma-separated, trimmed, empty parts
// dropped; by default the tenant's workforce v2 and External ID (ciamlogin.com) v2 issuers.
var tenantId = toLower(entraTenantId)
var defaultIssuers = [
  'https://login.microsoftonline.com/${tenantId}/v2.0'
  'https://${tenantId}.ciamlogin.com/${tenantId}/v2.0'
]
var configuredIssuers = filter(map(split(entraIssuer, ','), i => trim(i)), i => !empty(i))
var issuerValues = empty(configuredIssuers) ? defaultIssuers : configuredIssuers
var issuers = map(issuerValues, i => endsWith(i, '/') ? take(i, length(i) - 1) : i) // as in the iss claim
var audiences = filter(map(split(entraAudience, ','), a => trim(a)), a => !empty(a))

func xmlText(value string) string => replace(replace(replace(replace(value, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;')

// Policy fragments: one element per value. Each issuer's keys come from its own metadata (External
// ID tokens can be signed with a key only the ciamlogin.com key set publishes).
var openidConfigXml = join(map(issuers, i => '<openid-config url="${xmlText(i)}/.well-known/openid-configuration" />'), '')
var issuerXml = join(map(issuers, i => '<issuer>${xmlText(i)}</issuer>'), '')
var audienceXml = join(map(audiences, a => '<audience>${xmlText(a)}</audience>'), '')

// 99045fe1-7639-4a75-9d4a-577b6ca3810f is the Azure AD authentication events service (contract
// section 2): azp proves that Entra is the caller. clock-skew matches the endpoint's default
// ENTRA_CLOCK_TOLERANCE_SECONDS. No policy here touches the Authorization header, so the backend
// receives it unchanged.
var policyTemplate = '''
<policies>
  <inbound>
    <base />
    <validate-jwt header-name="Authorization" require-scheme="Bearer" failed-validation-httpcode="401" failed-validation-error-message="Unauthorized" require-expiration-time="true" require-signed-tokens="true" clock-skew="120">
      __OPENID_CONFIGS__
      <audiences>__AUDIENCES__</audiences>
      <issuers>__ISSUERS__</issuers>
      <required-claims>
        <claim name="azp" match="all">
          <value>99045fe1-7639-4a75-9d4a-577b6ca3810f</value>
        </claim>
      </required-claims>
    </validate-jwt>
    <set-backend-service base-url="__BACKEND_URL__" />
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>
'''
var policyValues = {
  OPENID_CONFIGS: openidConfigXml
  AUDIENCES: audienceXml
  ISSUERS: issuerXml
  BACKEND_URL: xmlText(backendUrl)
}
var policyXml = reduce(items(policyValues), policyTemplate, (xml, v) => replace(xml, '__${v.key}__', v.value))

resource apim 'Microsoft.ApiManagement/service@2024-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Consumption'
    capacity: 0 // Consumption has no units
  }
  properties: {
    publisherEmail: publisherEmail
    publisherName: publisherName
  }
}

resource api 'Microsoft.ApiManagement/service/apis@2024-05-01' = {
  parent: apim
  name: 'entra-auth-events'
  properties: {
    displayName: 'Entra custom authentication extension events'
    path: apiPath
    protocols: ['https']
    serviceUrl: backendUrl
    subscriptionRequired: false // Entra sends no subscription key: the bearer token is the check
  }
}

resource operations 'Microsoft.ApiManagement/service/apis/operations@2024-05-01' = [
  for route in routes: {
    parent: api
    name: route
    properties: {
      displayName: route
      method: 'POST'
      urlTemplate: '/${route}'
    }
  }
]

resource apiPolicy 'Microsoft.ApiManagement/service/apis/policies@2024-05-01' = {
  parent: api
  name: 'policy'
  properties: {
    format: 'rawxml'
    value: policyXml
  }
}

output gatewayUrl string = apim.properties.gatewayUrl
// route -> https://{gateway host}/api/{route}: the targetUrl to register for each event.
output eventUrls object = toObject(routes, r => r, r => '${apim.properties.gatewayUrl}/${apiPath}/${r}')
