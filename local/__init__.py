"""Running the product on one machine: Graph emulator, Service Bus stand-in, host runner, samples.

Nothing in `shared/` or `functions/` imports from here.
"""
