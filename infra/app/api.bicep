// The function app on Flex Consumption (FC1, Linux, Python 3.13), running as the
// user-assigned identity; its settings name endpoints and that identity, never a secret.
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param completionTopicEndpoint string
@description('WRITE_SCOPES: the scopes the app may write, comma-separated; the same list the ARM role is assigned at.')
param writeScopes string
param defaultSubscriptionId string
param defaultResourceGroup string
param operationDeadlineSeconds int
param pollsPerGeneration int
param pollMinIntervalSeconds int
param pollDefaultIntervalSeconds int
@description('Subnet the app joins when the private network is on; empty: none.')
param subnetId string = ''

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Every app setting, in one top-level variable on purpose: tests/deploy/test_contract.py reads
// it with a Bicep parser and checks it against the app's bindings and settings model, which it
// could not do if the settings were built inside a resource or spread over modules.
// FUNCTIONS_WORKER_RUNTIME is absent on purpose: Flex takes the runtime from functionAppConfig.
var appSettings = {
  // Identity-based AzureWebJobsStorage: Durable Functions, the queue trigger and the outputs.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  // The completion events output (shared/names.py COMPLETION_TOPIC_CONNECTION).
  COMPLETION_TOPIC__topicEndpointUri: completionTopicEndpoint
  COMPLETION_TOPIC__credential: 'managedidentity'
  COMPLETION_TOPIC__clientId: identityClientId
  // azure-identity's DefaultAzureCredential picks this identity for ARM tokens.
  AZURE_CLIENT_ID: identityClientId
  // Not a secret: with local auth off, telemetry is accepted only with the identity's token.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  WRITE_SCOPES: writeScopes
  DEFAULT_SUBSCRIPTION_ID: defaultSubscriptionId
  DEFAULT_RESOURCE_GROUP: defaultResourceGroup
  OPERATION_DEADLINE_SECONDS: string(operationDeadlineSeconds)
  POLLS_PER_GENERATION: string(pollsPerGeneration)
  POLL_MIN_INTERVAL_SECONDS: string(pollMinIntervalSeconds)
  POLL_DEFAULT_INTERVAL_SECONDS: string(pollDefaultIntervalSeconds)
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: 40
        // Durable guidance for Flex: one warm instance for the orchestrator and activity
        // triggers ("durable" group), so queued work items are picked up without a cold start.
        alwaysReady: [
          {
            name: 'durable'
            instanceCount: 1
          }
        ]
      }
      runtime: {
        name: 'python'
        version: '3.13'
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: appSettings
}

// Flex Consumption apps disable basic (publishing credential) auth; azd deploys with Entra ID.
resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output url string = 'https://${functionApp.properties.defaultHostName}'
