// The Service Bus namespace and the three queues the app uses: `school-sync` (one message per
// school and night), `group-reconcile` (one per group to change) and `commands` (on-demand).
// Duplicate detection drops a repeated message id, so a timer that fires twice sends nothing new.

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@minLength(6)
@maxLength(50)
@description('Globally unique Service Bus namespace name.')
param namespaceName string

@minValue(1)
@maxValue(100)
@description('Deliveries of one message before it is dead-lettered.')
param maxDeliveryCount int

@description('Peek-lock duration, ISO 8601, at most PT5M.')
param lockDuration string

// Windows: school-sync and group-reconcile ids are per run, so a day covers a repeated
// night; commands carry a fresh id per request, so the default ten minutes is enough.
var queues = [
  { name: 'school-sync', duplicateWindow: 'P1D' }
  { name: 'group-reconcile', duplicateWindow: 'P1D' }
  { name: 'commands', duplicateWindow: 'PT10M' }
]

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: namespaceName
  location: location
  tags: tags
  // Standard: the cheapest tier with duplicate detection.
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource queueResources 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = [
  for queue in queues: {
    parent: namespace
    name: queue.name
    properties: {
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: queue.duplicateWindow
      maxDeliveryCount: maxDeliveryCount
      lockDuration: lockDuration
      deadLetteringOnMessageExpiration: true
      defaultMessageTimeToLive: 'P14D'
      requiresSession: false
    }
  }
]

output namespaceName string = namespace.name
output namespaceHost string = '${namespace.name}.servicebus.windows.net'
