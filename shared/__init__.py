"""The function app's own code: pure decisions, and the edges that talk to Azure."""
