"""Every route of the ARM emulator, in one place."""

from __future__ import annotations

from emulators.arm.constants import PROVIDER
from emulators.arm.handlers.control import ControlHandlers
from emulators.arm.handlers.interactions import InteractionHandlers
from emulators.arm.handlers.operations import OperationHandlers
from emulators.common import Router

CONTROL_PREFIX = "/_emulator/"

_SUBSCRIPTION = "/subscriptions/{subscription}"
_HUB = f"{_SUBSCRIPTION}/resourceGroups/{{resource_group}}/providers/{PROVIDER}/hubs/{{hub}}"
_LOCATION = f"{_SUBSCRIPTION}/providers/{PROVIDER}/locations/{{location}}"


def api_router(interactions: InteractionHandlers, operations: OperationHandlers) -> Router:
    """The emulated ARM API; literal segments match case-insensitively, as in ARM."""
    router = Router(case_sensitive=False)
    router.add("PUT", f"{_HUB}/interactions/{{name}}", interactions.put)
    router.add("GET", f"{_HUB}/interactions/{{name}}", interactions.get)
    router.add("GET", f"{_HUB}/interactions", interactions.list)
    router.add("GET", f"{_LOCATION}/operationResults/{{operation_id}}", operations.result)
    router.add("GET", f"{_LOCATION}/operationStatuses/{{operation_id}}", operations.status)
    return router


def control_router(control: ControlHandlers) -> Router:
    """The `/_emulator/...` control API (health and reset are answered by the server)."""
    router = Router()
    router.add("GET", "/_emulator/requests", control.list_requests)
    router.add("DELETE", "/_emulator/requests", control.clear_requests)
    router.add("PUT", "/_emulator/scenario", control.set_default_scenario)
    router.add("PUT", "/_emulator/hubs/{hub}/scenario", control.set_hub_scenario)
    router.add("POST", "/_emulator/faults", control.add_fault)
    router.add("PUT", "/_emulator/throttling", control.set_throttling)
    return router
