// The endpoint on Azure Functions Flex Consumption, with a user-assigned managed identity for
// storage, Key Vault references and (optionally) Graph and ACS. Deploy with `azd up`, or with
// `az deployment group create -g <rg> -f infra/main.bicep -p entraTenantId=... entraAudience=...`.
// App setting names are the ones src/config.ts (EnvSchema) reads; test/infra.test.ts checks them.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('azd environment name; seeds the resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of every resource (it must offer Flex Consumption).')
param location string

@minLength(36)
@maxLength(36)
@description('ENTRA_TENANT_ID: the Entra (workforce or external) tenant whose events are accepted.')
param entraTenantId string

@minLength(1)
@description('ENTRA_AUDIENCE: the custom extension app registration\'s app ID (URI), comma-separated.')
param entraAudience string

// Optional settings: an empty string leaves the app setting out, so the code's default applies.
@description('ENTRA_ISSUER: comma-separated issuers; empty = the tenant\'s workforce and ciamlogin.com v2 issuers.')
param entraIssuer string = ''

@description('REQUEST_BUDGET_MS (100-1900); empty = 750. A string so that azd can pass an empty value.')
param requestBudgetMs string = ''

@description('EXTENSION_CONFIG: path of the extension configuration JSON in the package; empty = the shipped example.')
param extensionConfig string = ''

@description('GRAPH_BASE_URL; empty = https://graph.microsoft.com.')
param graphBaseUrl string = ''

@description('AZURE_CLIENT_ID for Graph when graphClientSecret is given: the app registration Graph is called as. Ignored otherwise (the managed identity is used).')
param graphClientId string = ''

@allowed(['', 'acs', 'sendgrid', 'smtp'])
@description('MAIL_PROVIDER for OnOtpSend; empty = no provider (OnOtpSend answers 503).')
param mailProvider string = ''

@description('MAIL_FROM: the sender address.')
param mailFrom string = ''

@description('ACS_ENDPOINT: https://<resource>.communication.azure.com, used with the managed identity (grant it a role on the ACS resource yourself).')
param acsEndpoint string = ''

@description('SENDGRID_BASE_URL; empty = SendGrid\'s public API.')
param sendgridBaseUrl string = ''

@description('OTP_STORE_TABLE; empty = otpsends.')
param otpStoreTable string = ''

@allowed(['', 'debug', 'info', 'warn', 'error'])
@description('LOG_LEVEL; empty = info.')
param logLevel string = ''

// Secrets: each one given becomes a Key Vault secret and its app setting a Key Vault reference.
@secure()
@description('SMTP_URL (smtps://user:password@host:465).')
param smtpUrl string = ''

@secure()
@description('SENDGRID_API_KEY.')
param sendgridApiKey string = ''

@secure()
@description('ACS_CONNECTION_STRING (prefer acsEndpoint with the managed identity).')
param acsConnectionString string = ''

@secure()
@description('AZURE_CLIENT_SECRET of the app registration named by graphClientId (prefer the managed identity).')
param graphClientSecret string = ''

@secure()
@description('OTP_STORE_CONNECTION_STRING: another storage account for the OnOtpSend duplicate check; empty = this deployment\'s own account through OTP_STORE_ENDPOINT and the identity.')
param otpStoreConnectionString string = ''

@secure()
@description('LOG_HASH_KEY (16+ characters): optional; set it to correlate recipient digests in logs across instances. The shared OTP store keeps its own key.')
param logHashKey string = ''

// Optional API Management front (infra/modules/apim.bicep): validate-jwt before the Function App.
@description('Deploy API Management (Consumption) in front of the Function App with a validate-jwt policy (issuer, audience, azp) as defence in depth. For v2 tokens only. Register the APIM_*_URL outputs, not the Function App URLs.')
param deployApim bool = false

@description('API Management publisher e-mail; required when deployApim is true.')
param apimPublisherEmail string = ''

@description('API Management publisher name; empty = environmentName.')
param apimPublisherName string = ''

// Entra waits at most 2 s (1 s by default): a Flex Consumption app scaled to zero takes seconds
// to start, so the first sign-in after idle would fail. Always-ready instances are billed while
// idle (the baseline); set 0 for test environments. See docs/deployment.md.
@minValue(0)
@maxValue(20)
@description('Always-ready instances for the HTTP functions (0 lets the app scale to zero: the first sign-in after idle then fails).')
param alwaysReadyInstances int = 1

@minValue(40)
@maxValue(1000)
@description('Maximum instances the app scales out to (Flex Consumption allows 40-1000).')
param maximumInstanceCount int = 40

@allowed([512, 2048, 4096])
@description('Memory of one instance, in MB.')
param instanceMemoryMB int = 512

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName }
var deploymentContainer = 'app-package'

// Built-in role definition IDs (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${resourceToken}'
  location: location
  tags: tags
}

// Functions runtime storage and the deployment package, reached with the identity only.
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'st${resourceToken}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // the host and the deployment use the managed identity
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource packageContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainer
  properties: { publicAccess: 'None' }
}

resource blobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, roles.storageBlobDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The shared OTP store (duplicate check, rate limit) in this account's Table service, reached with
// the identity through OTP_STORE_ENDPOINT (the account refuses shared keys).
resource tableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: storage
  name: guid(storage.id, identity.id, roles.storageTableDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    // Ingestion with Entra tokens only (the identity below), not with the connection string's key.
    DisableLocalAuth: true
  }
}

// The host (APPLICATIONINSIGHTS_AUTHENTICATION_STRING) and the endpoint's exporter send telemetry
// as the identity.
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Purge protection cannot be turned off again, and a deleted vault keeps its (global) name for
// the retention period: a new environment name gives new names.
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv-${resourceToken}'
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, identity.id, roles.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource smtpUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(smtpUrl)) {
  parent: vault
  name: 'smtp-url'
  properties: { value: smtpUrl }
}

resource sendgridApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(sendgridApiKey)) {
  parent: vault
  name: 'sendgrid-api-key'
  properties: { value: sendgridApiKey }
}

resource acsConnectionStringSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(acsConnectionString)) {
  parent: vault
  name: 'acs-connection-string'
  properties: { value: acsConnectionString }
}

resource graphClientSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(graphClientSecret)) {
  parent: vault
  name: 'azure-client-secret'
  properties: { value: graphClientSecret }
}

resource otpStoreSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(otpStoreConnectionString)) {
  parent: vault
  name: 'otp-store-connection-string'
  properties: { value: otpStoreConnectionString }
}

resource logHashKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(logHashKey)) {
  parent: vault
  name: 'log-hash-key'
  properties: { value: logHashKey }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true } // Linux
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${resourceToken}'
  location: location
  tags: union(tags, { 'azd-service-name': 'api' }) // azd deploys service "api" to this app
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    // No ftpsState: Flex Consumption refuses that site setting in some regions (error 51021);
    // FTP and SCM basic-auth publishing are off through basicPublishingCredentialsPolicies below.
    siteConfig: {
      minTlsVersion: '1.2'
    }
    // Flex Consumption: runtime and scale live here, not in FUNCTIONS_* app settings (which
    // Flex rejects); the package is read from the blob container with the identity.
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        alwaysReady: alwaysReadyInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstances }] : []
      }
      // Node 20 reached end of life on 2026-04-30. 22 is the newest Node the Flex Consumption stack
      // data lists (Az.Functions 4.3.0's FunctionsStackFlexData, "22 LTS", the default); to check a
      // region: Get-AzFunctionAppFlexConsumptionRuntime -Location <region> -Runtime Node
      runtime: { name: 'node', version: '22' }
    }
  }
  dependsOn: [blobOwner, packageContainer]
}

// Basic-auth (publishing profile) deployment off for FTP and for the SCM site: azd deploys with
// the identity, and nothing else should hold a password to this app.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

var kvRefPrefix = '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/'

// Every setting, by name; empty values are dropped below. Secrets are Key Vault references,
// never the parameter values (a reference without a version follows the latest secret version).
var appSettings = {
  // Azure platform
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.properties.clientId}'
  // The endpoint (src/config.ts EnvSchema)
  ENTRA_TENANT_ID: entraTenantId
  ENTRA_AUDIENCE: entraAudience
  ENTRA_ISSUER: entraIssuer
  REQUEST_BUDGET_MS: requestBudgetMs
  EXTENSION_CONFIG: extensionConfig
  GRAPH_BASE_URL: graphBaseUrl
  // With a client secret AZURE_CLIENT_ID names that app registration (for Graph and, in the
  // code, also for ACS_ENDPOINT); otherwise the user-assigned identity.
  AZURE_CLIENT_ID: empty(graphClientSecret) ? identity.properties.clientId : graphClientId
  MAIL_PROVIDER: mailProvider
  MAIL_FROM: mailFrom
  ACS_ENDPOINT: acsEndpoint
  SENDGRID_BASE_URL: sendgridBaseUrl
  OTP_STORE_TABLE: otpStoreTable
  // The shared OTP store in this deployment's storage account, with the identity (Storage Table
  // Data Contributor above), unless a connection string names another account.
  OTP_STORE_ENDPOINT: empty(otpStoreConnectionString) ? storage.properties.primaryEndpoints.table : ''
  OTP_STORE_CLIENT_ID: empty(otpStoreConnectionString) ? identity.properties.clientId : ''
  LOG_LEVEL: logLevel
  SMTP_URL: empty(smtpUrl) ? '' : '${kvRefPrefix}smtp-url/)'
  SENDGRID_API_KEY: empty(sendgridApiKey) ? '' : '${kvRefPrefix}sendgrid-api-key/)'
  ACS_CONNECTION_STRING: empty(acsConnectionString) ? '' : '${kvRefPrefix}acs-connection-string/)'
  AZURE_CLIENT_SECRET: empty(graphClientSecret) ? '' : '${kvRefPrefix}azure-client-secret/)'
  OTP_STORE_CONNECTION_STRING: empty(otpStoreConnectionString) ? '' : '${kvRefPrefix}otp-store-connection-string/)'
  LOG_HASH_KEY: empty(logHashKey) ? '' : '${kvRefPrefix}log-hash-key/)'
}

resource functionAppSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: toObject(filter(items(appSettings), s => !empty(s.value)), s => s.key, s => s.value)
  // The references resolve at start-up: the secrets and the identity's access must exist first.
  dependsOn: [
    secretsUser
    tableContributor
    metricsPublisher
    smtpUrlSecret
    sendgridApiKeySecret
    acsConnectionStringSecret
    graphClientSecretSecret
    otpStoreSecret
    logHashKeySecret
  ]
}

var baseUrl = 'https://${functionApp.properties.defaultHostName}/api'

// Not deployed unless deployApim. With it, Entra calls the gateway, so the extension's targetUrl is
// an APIM_*_URL output and its resourceId must be api://{gateway host}/{appId} (contract section 2);
// the policy accepts the same ENTRA_AUDIENCE and ENTRA_ISSUER values as the Function App.
module apim 'modules/apim.bicep' = if (deployApim) {
  name: 'apim'
  params: {
    name: 'apim-${resourceToken}'
    location: location
    tags: tags
    publisherEmail: apimPublisherEmail
    publisherName: empty(apimPublisherName) ? environmentName : apimPublisherName
    backendUrl: baseUrl
    entraTenantId: entraTenantId
    entraIssuer: entraIssuer
    entraAudience: entraAudience
  }
}

output AZURE_FUNCTION_APP_NAME string = functionApp.name
output FUNCTION_APP_HOSTNAME string = functionApp.properties.defaultHostName
output ON_TOKEN_ISSUANCE_START_URL string = '${baseUrl}/onTokenIssuanceStart'
output ON_ATTRIBUTE_COLLECTION_START_URL string = '${baseUrl}/onAttributeCollectionStart'
output ON_ATTRIBUTE_COLLECTION_SUBMIT_URL string = '${baseUrl}/onAttributeCollectionSubmit'
output ON_OTP_SEND_URL string = '${baseUrl}/onOtpSend'
output ON_PASSWORD_SUBMIT_URL string = '${baseUrl}/onPasswordSubmit'
output MANAGED_IDENTITY_CLIENT_ID string = identity.properties.clientId
output KEY_VAULT_NAME string = vault.name
// The gateway URLs to register instead of the ones above when deployApim; empty strings otherwise.
output APIM_GATEWAY_URL string = deployApim ? apim.outputs.gatewayUrl : ''
output APIM_ON_TOKEN_ISSUANCE_START_URL string = deployApim ? apim.outputs.eventUrls.onTokenIssuanceStart : ''
output APIM_ON_ATTRIBUTE_COLLECTION_START_URL string = deployApim ? apim.outputs.eventUrls.onAttributeCollectionStart : ''
output APIM_ON_ATTRIBUTE_COLLECTION_SUBMIT_URL string = deployApim ? apim.outputs.eventUrls.onAttributeCollectionSubmit : ''
output APIM_ON_OTP_SEND_URL string = deployApim ? apim.outputs.eventUrls.onOtpSend : ''
output APIM_ON_PASSWORD_SUBMIT_URL string = deployApim ? apim.outputs.eventUrls.onPasswordSubmit : ''
