"""ARM emulator: Customer Insights interactions (api-version 2017-04-26) on loopback."""

from emulators.arm.emulator import ArmEmulator

__all__ = ["ArmEmulator"]
