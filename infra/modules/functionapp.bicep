// The Function App on a Flex Consumption plan: Python 3.11, system-assigned managed identity,
// and the app settings the code reads. The identity gets its data roles in roles.bicep.

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Name of the Function App.')
param appName string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Storage account of the Functions host (AzureWebJobsStorage, by identity).')
param storageAccountName string

@description('URL of the blob container the app package is deployed from.')
param deploymentContainerUrl string

@description('Table endpoint of the state storage account (app setting STATE_TABLE_URL).')
param tableEndpoint string

@description('Blob endpoint of the MIS export storage account (app setting STATE_BLOB_URL).')
param blobEndpoint string

@description('Host name of the Service Bus namespace, e.g. sb-x.servicebus.windows.net.')
param serviceBusHost string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('NCRONTAB schedule (UTC) of the nightly run (app setting NIGHTLY_SCHEDULE).')
param nightlySchedule string

@minValue(1)
@maxValue(1000)
@description('Most instances at once; also GRAPH_INSTANCE_COUNT, which divides the Graph write budget.')
param maximumInstanceCount int

@description('Memory of one instance in MB.')
param instanceMemoryMB int

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'app' })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        // App-wide cap: the group-reconcile instances can never outnumber it, so dividing the
        // tenant's Graph write budget by it (GRAPH_INSTANCE_COUNT below) is always safe.
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: {
      // The host's own storage, by identity (no connection string, shared keys are off).
      AzureWebJobsStorage__accountName: storageAccountName
      AzureWebJobsStorage__credential: 'managedidentity'
      // The Service Bus connection="ServiceBusConnection", by identity: the triggers listen
      // and the handlers send with it (shared/messages).
      ServiceBusConnection__fullyQualifiedNamespace: serviceBusHost
      ServiceBusConnection__credential: 'managedidentity'
      APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
      // Read by the code (shared/state, shared/graph, functions/).
      STATE_TABLE_URL: tableEndpoint
      STATE_BLOB_URL: blobEndpoint
      NIGHTLY_SCHEDULE: nightlySchedule
      GRAPH_AUTH: 'managed-identity'
      GRAPH_INSTANCE_COUNT: string(maximumInstanceCount)
    }
  }
}

output appName string = app.name
output principalId string = app.identity.principalId
