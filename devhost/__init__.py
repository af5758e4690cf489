"""Local stand-in for the Azure Functions host; development and test tool, never deployed."""
