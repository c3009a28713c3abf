"""Service Bus messages: their schemas and the bus that carries them."""
