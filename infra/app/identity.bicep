// The app's one identity: every connection (storage, Event Grid, Application Insights, ARM)
// authenticates as it, so the roles in rbac.bicep and arm-role*.bicep are all it can do.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output resourceId string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
