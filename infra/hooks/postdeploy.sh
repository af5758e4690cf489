#!/bin/sh
# After `azd deploy`: subscribe eventgrid_intake to the intake topic (the function must exist
# first). azd passes main.bicep's outputs as environment variables.
set -eu
az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name intake-subscription \
  --template-file infra/app/eventgrid-subscription.bicep \
  --parameters intakeTopicName="$INTAKE_TOPIC_NAME" \
    functionAppName="$AZURE_FUNCTION_NAME" \
    storageAccountName="$STORAGE_ACCOUNT_NAME" \
  --output none
echo "eventgrid_intake subscribed to $INTAKE_TOPIC_NAME"
