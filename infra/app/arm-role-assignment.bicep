// The custom ARM role on one resource group, or on one hub in it when hubName is set.
param principalId string
param roleDefinitionId string
param hubName string = ''

resource hub 'Microsoft.CustomerInsights/hubs@2017-04-26' existing = if(!empty(hubName)) {
  name: hubName
}

resource onHub 'Microsoft.Authorization/roleAssignments@2022-04-01' = if(!empty(hubName)) {
  name: guid(resourceGroup().id, hubName, principalId, roleDefinitionId)
  scope: hub
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: roleDefinitionId
  }
}

resource onResourceGroup 'Microsoft.Authorization/roleAssignments@2022-04-01' = if(empty(hubName)) {
  name: guid(resourceGroup().id, principalId, roleDefinitionId)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: roleDefinitionId
  }
}
