"""Tests of the local Service Bus stand-in and the bus adapter."""
