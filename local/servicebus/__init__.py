"""A local stand-in for Azure Service Bus queues, for tests and the demo only: the real
azure-servicebus SDK sends to it and receives from it over plain AMQP on loopback.

    python -m local.servicebus --port 5672 --queues school-sync,group-reconcile,commands
"""
