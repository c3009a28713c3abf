// Role assignments: what the app's managed identity (and, optionally, an operator) may do with
// the storage account, the Service Bus namespace and Application Insights. Graph permissions
// are not Azure roles and cannot be granted here: see infra/README.md.

@description('Principal id of the Function App\'s system-assigned identity.')
param appPrincipalId string

@description('Name of the storage account holding the state tables and the MIS exports.')
param storageAccountName string

@description('Name of the MIS export container, which the operator may write to.')
param misContainerName string

@description('Name of the Service Bus namespace.')
param serviceBusNamespaceName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Object id of the operator to grant access to; empty grants nobody.')
param operatorPrincipalId string

@description('Kind of principal operatorPrincipalId is (User, Group or ServicePrincipal).')
param operatorPrincipalType string

// Built-in role definition ids (the same in every tenant).
var roleIds = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419'
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// The host keeps its timer locks and the deployment package in blobs, which needs Owner (a
// superset of Blob Data Contributor, which the MIS export reads need).
var storageRoles = [
  roleIds.storageBlobDataOwner
  roleIds.storageTableDataContributor
]

// Receiver for the triggers, Sender for the fan-out, Owner so the scale controller can read
// queue lengths (with Listen rights alone it falls back to slow incremental scaling).
var serviceBusRoles = [
  roleIds.serviceBusDataReceiver
  roleIds.serviceBusDataSender
  roleIds.serviceBusDataOwner
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource misContainer 'containers' existing = {
      name: misContainerName
    }
  }
}

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' existing = {
  name: serviceBusNamespaceName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource appStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storage.id, appPrincipalId, role)
    scope: storage
    properties: {
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

resource appServiceBusRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in serviceBusRoles: {
    name: guid(namespace.id, appPrincipalId, role)
    scope: namespace
    properties: {
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
    }
  }
]

resource appTelemetryRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleIds.monitoringMetricsPublisher
    )
  }
}

// The operator uploads MIS exports (this container only), reads the state with `groupsync
// report`, and sends commands.
resource operatorExportRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(storage::blobService::misContainer.id, operatorPrincipalId, roleIds.storageBlobDataContributor)
  scope: storage::blobService::misContainer
  properties: {
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleIds.storageBlobDataContributor
    )
  }
}

resource operatorStateRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(storage.id, operatorPrincipalId, roleIds.storageTableDataContributor)
  scope: storage
  properties: {
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleIds.storageTableDataContributor
    )
  }
}

resource operatorCommandRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(namespace.id, operatorPrincipalId, roleIds.serviceBusDataSender)
  scope: namespace
  properties: {
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleIds.serviceBusDataSender
    )
  }
}
