// Two custom topics, both with local auth off (no key exists to leak or rotate): the app
// publishes completion events to one, and callers publish requests to the other.
param completionTopicName string
param intakeTopicName string
param location string
param tags object

resource completions 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: completionTopicName
  location: location
  tags: tags
  properties: {
    inputSchema: 'EventGridSchema'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource requests 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: intakeTopicName
  location: location
  tags: tags
  // Writes undeliverable requests to the dead-letter container (eventgrid-subscription.bicep).
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    inputSchema: 'EventGridSchema'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

output completionTopicName string = completions.name
output completionTopicEndpoint string = completions.properties.endpoint
output intakeTopicName string = requests.name
output intakeTopicEndpoint string = requests.properties.endpoint
output intakePrincipalId string = requests.identity.principalId
