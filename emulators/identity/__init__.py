"""Managed identity emulator: the App Service / Functions token endpoint, api-version 2019-08-01."""

from emulators.identity.emulator import IdentityEmulator

__all__ = ["IdentityEmulator"]
