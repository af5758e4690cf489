# After `azd deploy`: subscribe eventgrid_intake to the intake topic (see postdeploy.sh).
$ErrorActionPreference = 'Stop'
az deployment group create `
  --resource-group $env:AZURE_RESOURCE_GROUP `
  --name intake-subscription `
  --template-file infra/app/eventgrid-subscription.bicep `
  --parameters intakeTopicName=$env:INTAKE_TOPIC_NAME `
    functionAppName=$env:AZURE_FUNCTION_NAME `
    storageAccountName=$env:STORAGE_ACCOUNT_NAME `
  --output none
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
Write-Output "eventgrid_intake subscribed to $env:INTAKE_TOPIC_NAME"
