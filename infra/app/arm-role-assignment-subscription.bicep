// The custom ARM role on a whole subscription, for a deployer that listed one.
targetScope = 'subscription'

param principalId string
param roleDefinitionId string

resource onSubscription 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, roleDefinitionId)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: roleDefinitionId
  }
}
