"""The stored interaction type and the JSON ARM returns for it (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from emulators.arm.constants import PROVIDER, RESOURCE_TYPE

_FIELD_FLAGS: Final = (
    "isArray",
    "isEnum",
    "isFlagEnum",
    "isImage",
    "isLocalizedString",
    "isName",
    "isRequired",
)
_LOCALIZED_MAPS: Final = ("displayName", "description")


@dataclass(frozen=True)
class InteractionRecord:
    """An interaction as stored: names in the casing of the creating PUT, properties as sent."""

    subscription: str
    resource_group: str
    hub: str
    name: str
    properties: dict[str, Any]
    provisioning_state: str
    visible: bool
    last_changed: str

    @property
    def resource_id(self) -> str:
        """The full ARM id."""
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/{PROVIDER}/hubs/{self.hub}/interactions/{self.name}"
        )


def render(record: InteractionRecord, *, locale: str | None) -> dict[str, Any]:
    """The `InteractionResourceFormat` body: the sent properties plus what the server fills in.

    With a `locale` (GET and list), localized maps (`displayName`, `description`) are narrowed
    to that locale when they have it; PUT answers echo them whole.
    """
    properties = {
        key: value for key, value in record.properties.items() if key != "provisioningState"
    }
    for key in _LOCALIZED_MAPS:
        if locale is not None and isinstance(properties.get(key), dict):
            properties[key] = _narrow_to_locale(properties[key], locale)
    properties["fields"] = [
        _field_with_defaults(field, index)
        for index, field in enumerate(properties.get("fields") or [])
    ]
    properties.setdefault("isActivity", False)
    properties.update(
        {
            "entityType": "Interaction",
            "instancesCount": 0,
            "provisioningState": record.provisioning_state,
            "tenantId": record.hub.lower(),
            "typeName": record.name,
            "lastChangedUtc": record.last_changed,
            "dataSourcePrecedenceRules": [],
        }
    )
    return {
        "id": record.resource_id,
        "name": f"{record.hub}/{record.name}",
        "type": RESOURCE_TYPE,
        "properties": properties,
    }


def _field_with_defaults(field: dict[str, Any], index: int) -> dict[str, Any]:
    filled = dict(field)
    for flag in _FIELD_FLAGS:
        filled.setdefault(flag, False)
    filled.setdefault("propertyId", f"id{index + 1}")
    filled["dataSourcePrecedenceRules"] = []
    return filled


def _narrow_to_locale(values: dict[str, Any], locale: str) -> dict[str, Any]:
    matching = {key: value for key, value in values.items() if key.lower() == locale.lower()}
    return matching or values
