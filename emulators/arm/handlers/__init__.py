"""Request handlers of the ARM emulator, one module per API group."""
