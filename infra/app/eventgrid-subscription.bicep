// Pushes request events from the intake topic to the eventgrid_intake function. Deployed by
// infra/hooks/postdeploy.sh after `azd deploy`: an AzureFunction endpoint must name a function
// that already exists. Event Grid reaches the function through the platform, not a URL with
// a key; undeliverable events go to a blob container, written with the topic's own identity
// (storage takes no shared key), which holds a data role on that container only (rbac.bicep).
param intakeTopicName string
param functionAppName string
param storageAccountName string
param deadLetterContainerName string = 'intake-dead-letters'

// shared/names.py: EVENTGRID_INTAKE, and the request event type tools/submit.py publishes.
var functionName = 'eventgrid_intake'
var requestEventType = 'CustomerInsights.InteractionType.ProvisioningRequested'

resource topic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: intakeTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource subscription 'Microsoft.EventGrid/topics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'to-eventgrid-intake'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${functionName}'
        maxEventsPerBatch: 1
      }
    }
    filter: {
      includedEventTypes: [
        requestEventType
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}
