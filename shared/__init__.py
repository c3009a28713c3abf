"""The engine of the MIS-to-Microsoft 365 group sync: everything below knows nothing of Azure Functions."""
