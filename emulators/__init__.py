"""Loopback stand-ins for the Azure services the app talks to; never deployed."""
