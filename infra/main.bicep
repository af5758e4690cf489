// Everything the app needs, in a resource group of its own: `azd up` deploys this at
// subscription scope (the layout of Microsoft's azd Functions templates). No key or connection
// string is stored anywhere: every connection uses the app's user-assigned identity.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; it seeds the unique names of all resources.')
param environmentName string

@minLength(1)
@description('Region of all resources; it must offer the Flex Consumption plan.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Object id of the deployer (azd sets it); it may publish to the intake topic. Empty: nobody.')
param principalId string = ''

@description('Scopes the app may write: /subscriptions/{id}, a resource group or a hub resource id. The custom ARM role is assigned at each, and the app refuses any other target.')
param hubScopes array = []

@description('Subscription used when a request names none (DEFAULT_SUBSCRIPTION_ID). Empty: such requests are refused.')
param defaultSubscriptionId string = ''

@description('Resource group used when a request names none (DEFAULT_RESOURCE_GROUP). Empty: such requests are refused.')
param defaultResourceGroup string = ''

@description('Overall deadline per operation, in seconds (OPERATION_DEADLINE_SECONDS).')
param operationDeadlineSeconds int = 7200

@description('Polls before the orchestrator continues as new (POLLS_PER_GENERATION).')
param pollsPerGeneration int = 20

@description('Floor under every wait between polls, in seconds (POLL_MIN_INTERVAL_SECONDS).')
param pollMinIntervalSeconds int = 10

@description('Wait when ARM gives no Retry-After, in seconds (POLL_DEFAULT_INTERVAL_SECONDS).')
param pollDefaultIntervalSeconds int = 60

@description('Put storage behind private endpoints in a virtual network the app joins.')
param vnetEnabled bool = false

var abbrs = loadJsonContent('./abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = '${abbrs.webSitesFunctions}api-${resourceToken}'
// Flex Consumption deploys the package from this blob container, read with the app's identity.
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}api-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    vnetEnabled: vnetEnabled
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module eventGrid 'app/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    completionTopicName: '${abbrs.eventGridTopics}completions-${resourceToken}'
    intakeTopicName: '${abbrs.eventGridTopics}requests-${resourceToken}'
    location: location
    tags: tags
  }
}

module network 'app/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    completionTopicEndpoint: eventGrid.outputs.completionTopicEndpoint
    writeScopes: join(hubScopes, ',')
    defaultSubscriptionId: defaultSubscriptionId
    defaultResourceGroup: defaultResourceGroup
    operationDeadlineSeconds: operationDeadlineSeconds
    pollsPerGeneration: pollsPerGeneration
    pollMinIntervalSeconds: pollMinIntervalSeconds
    pollDefaultIntervalSeconds: pollDefaultIntervalSeconds
    subnetId: vnetEnabled ? network.outputs.appSubnetId : ''
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    completionTopicName: eventGrid.outputs.completionTopicName
    intakeTopicName: eventGrid.outputs.intakeTopicName
    intakePrincipalId: eventGrid.outputs.intakePrincipalId
    deadLetterContainerName: storage.outputs.deadLetterContainerName
  }
}

// The ARM side: one custom role with only the Customer Insights actions a PUT and its polls
// need, assignable (and assigned) exactly at the scopes the app is allowed to write.
module armRole 'app/arm-role.bicep' = if (!empty(hubScopes)) {
  name: 'arm-role'
  params: {
    roleName: 'Customer Insights interaction writer (${environmentName})'
    assignableScopes: hubScopes
  }
}

// A subscription scope splits into 3 parts, a resource group into 5, a hub into 9. ('if(' has
// no space: pycep-parser, the syntax check in tests/deploy, reads a loop filter only so.)
module armRoleAtSubscription 'app/arm-role-assignment-subscription.bicep' = [
  for scope in hubScopes: if(length(split(scope, '/')) == 3) {
    name: 'arm-role-${uniqueString(scope)}'
    scope: subscription(split(scope, '/')[2])
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionId: armRole.outputs.roleDefinitionId
    }
  }
]

module armRoleAtResourceGroup 'app/arm-role-assignment.bicep' = [
  for scope in hubScopes: if(length(split(scope, '/')) > 3) {
    name: 'arm-role-${uniqueString(scope)}'
    scope: resourceGroup(split(scope, '/')[2], split(scope, '/')[4])
    params: {
      principalId: identity.outputs.principalId
      roleDefinitionId: armRole.outputs.roleDefinitionId
      hubName: length(split(scope, '/')) == 9 ? split(scope, '/')[8] : ''
    }
  }
]

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_NAME string = api.outputs.name
output SERVICE_API_URL string = api.outputs.url
output COMPLETION_TOPIC_ENDPOINT string = eventGrid.outputs.completionTopicEndpoint
output INTAKE_TOPIC_ENDPOINT string = eventGrid.outputs.intakeTopicEndpoint
output INTAKE_TOPIC_NAME string = eventGrid.outputs.intakeTopicName
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
