"""The ARM emulator's fault rule: the common one, optionally limited to one hub."""

from __future__ import annotations

from emulators.common import FaultRule


class ArmFault(FaultRule):
    """A fault for one hub's requests (its resources and operation URLs), or for all."""

    hub: str | None = None
