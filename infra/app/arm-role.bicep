// The only ARM permission the app has: write interaction types and read what a PUT's
// long-running operation reports. Assignable only at the scopes the deployer listed.
targetScope = 'subscription'

param roleName string
param assignableScopes array

// The actions of Interactions_Get / Interactions_CreateOrUpdate and of the operation URLs ARM
// returns in Azure-AsyncOperation and Location (docs/ and shared/lro.py poll them).
var actions = [
  'Microsoft.CustomerInsights/hubs/interactions/read'
  'Microsoft.CustomerInsights/hubs/interactions/write'
  'Microsoft.CustomerInsights/locations/operationResults/read'
  'Microsoft.CustomerInsights/locations/operationStatuses/read'
]

resource role 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(subscription().id, roleName)
  properties: {
    roleName: roleName
    description: 'Create or update Customer Insights interaction types and poll the operation.'
    type: 'CustomRole'
    permissions: [
      {
        actions: actions
        notActions: []
        dataActions: []
        notDataActions: []
      }
    ]
    assignableScopes: assignableScopes
  }
}

output roleDefinitionId string = role.id
