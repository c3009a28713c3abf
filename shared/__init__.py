"""The engine of the MIS-to-Microsoft 365 group sync. Nothing below imports Azure Functions."""
