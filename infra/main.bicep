// Everything one tenant deploys for the MIS group sync: the Function App (Flex Consumption,
// Python 3.11, system-assigned identity), its storage (state tables, MIS export container),
// Service Bus queues, monitoring, and the identity's role assignments. `azd up` from infra/.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Name of the deployment environment (azd sets it); used in every resource name and tag.')
param environmentName string

@minLength(1)
@description('Azure region for every resource; Flex Consumption must be offered there.')
param location string

@description('Resource group to create or reuse; empty means rg-<environmentName>.')
param resourceGroupName string = ''

@description('NCRONTAB schedule (six fields, UTC: Flex Consumption has no time zones) of the nightly run.')
param nightlySchedule string = '0 30 1 * * *'

@minValue(1)
@maxValue(1000)
@description('Most instances the app may run at once. The app also reads it as GRAPH_INSTANCE_COUNT and paces its Graph writes at the tenant write budget divided by it, so the instances together stay inside the budget. Raise both together by changing only this value.')
param maximumInstanceCount int = 4

@allowed([
  512
  2048
  4096
])
@description('Memory of one instance in MB (512 = 0.25 core, 2048 = 1 core, 4096 = 2 cores).')
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(100)
@description('Deliveries of one message before Service Bus dead-letters it.')
param maxDeliveryCount int = 10

@description('Service Bus peek-lock duration (ISO 8601, at most PT5M). The Functions host renews the lock while a handler runs, up to maxAutoLockRenewalDuration in host.json.')
param messageLockDuration string = 'PT5M'

@description('Object id of a user or group that operates the sync (uploads MIS exports, reads reports, sends commands); empty grants nobody. azd passes the deploying user.')
param operatorPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
@description('Kind of principal operatorPrincipalId is.')
param operatorPrincipalType string = 'User'

var tags = { 'azd-env-name': environmentName }
// Short, stable, globally unique suffix for the names that must be unique in Azure.
var suffix = take(uniqueString(subscription().id, environmentName, location), 8)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceName: 'log-${environmentName}-${suffix}'
    appInsightsName: 'appi-${environmentName}-${suffix}'
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    accountName: 'st${take(toLower(replace(replace(environmentName, '-', ''), '_', '')), 14)}${suffix}'
    deploymentContainerName: 'app-package-${suffix}'
  }
}

module servicebus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    location: location
    tags: tags
    namespaceName: '${take('sb-${environmentName}', 41)}-${suffix}'
    maxDeliveryCount: maxDeliveryCount
    lockDuration: messageLockDuration
  }
}

module app 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    location: location
    tags: tags
    appName: 'func-${environmentName}-${suffix}'
    planName: 'plan-${environmentName}-${suffix}'
    storageAccountName: storage.outputs.accountName
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    tableEndpoint: storage.outputs.tableEndpoint
    blobEndpoint: storage.outputs.blobEndpoint
    serviceBusHost: servicebus.outputs.namespaceHost
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    nightlySchedule: nightlySchedule
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  scope: rg
  params: {
    appPrincipalId: app.outputs.principalId
    storageAccountName: storage.outputs.accountName
    misContainerName: storage.outputs.misContainerName
    serviceBusNamespaceName: servicebus.outputs.namespaceName
    appInsightsName: monitoring.outputs.appInsightsName
    operatorPrincipalId: operatorPrincipalId
    operatorPrincipalType: operatorPrincipalType
  }
}

output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.appName
output AZURE_FUNCTION_APP_PRINCIPAL_ID string = app.outputs.principalId
output STATE_TABLE_URL string = storage.outputs.tableEndpoint
output STATE_BLOB_URL string = storage.outputs.blobEndpoint
output SERVICEBUS_NAMESPACE string = servicebus.outputs.namespaceHost
