"""Pure checks on names, headers and PUT bodies, raising the ARM error each breach gets."""

from __future__ import annotations

import re
import uuid
from typing import Any, Final

from emulators.arm import errors
from emulators.common import InvalidJsonBodyError, Request

_INTERACTION_NAME: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9_]+")
_HUB_NAME: Final = re.compile(r"[a-zA-Z][a-zA-Z0-9]+")
_RESOURCE_GROUP: Final = re.compile(r"[-\w._()]+")
_REQUIRED_FIELD_KEYS: Final = ("fieldName", "fieldType")
_REQUIRED_PARTICIPANT_KEYS: Final = (
    "participantName",
    "profileTypeName",
    "participantPropertyReferences",
)
_REQUIRED_REFERENCE_KEYS: Final = ("sourcePropertyName", "targetPropertyName")


def check_subscription_id(subscription: str) -> None:
    """Subscriptions are GUIDs."""
    try:
        uuid.UUID(subscription)
    except ValueError as err:
        raise errors.invalid_subscription_id(subscription) from err


def check_resource_group(resource_group: str) -> None:
    """1 to 90 letters, digits, `-`, `_`, `.`, `(`, `)`, not ending in a period."""
    if not 1 <= len(resource_group) <= 90:
        raise errors.invalid_resource_group(resource_group, "it must be 1 to 90 characters long.")
    if not _RESOURCE_GROUP.fullmatch(resource_group):
        raise errors.invalid_resource_group(
            resource_group,
            "it can only contain letters, digits, '-', '_', '.', '(' and ')'.",
        )
    if resource_group.endswith("."):
        raise errors.invalid_resource_group(resource_group, "it cannot end with a period.")


def check_hub_name(hub: str) -> None:
    """`^[a-zA-Z][a-zA-Z0-9]+$`, at most 64 characters."""
    _check_name("hubName", hub, _HUB_NAME, 64, "a letter, then letters or digits")


def check_interaction_name(name: str) -> None:
    """`^[a-zA-Z][a-zA-Z0-9_]+$`, at most 128 characters."""
    _check_name(
        "interactionName", name, _INTERACTION_NAME, 128, "a letter, then letters, digits or '_'"
    )


def check_json_content_type(content_type: str | None) -> None:
    """PUT bodies must be declared `application/json` (parameters such as charset allowed)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise errors.unsupported_media_type(content_type)


def parse_put_body(request: Request) -> dict[str, Any]:
    """The `properties` object of a PUT body after structural checks."""
    try:
        body = request.json()
    except InvalidJsonBodyError as err:
        raise errors.invalid_request_content(
            f"The request content was invalid and could not be deserialized: {err}."
        ) from err
    if not isinstance(body, dict):
        raise errors.invalid_request_content("The request content must be a JSON object.")
    properties = body.get("properties")
    if properties is None:
        raise errors.invalid_request_content(
            "The request content must wrap the interaction type in a 'properties' object.",
            target="properties",
        )
    if not isinstance(properties, dict):
        raise errors.invalid_request_content(
            "The 'properties' value must be a JSON object.", target="properties"
        )
    _check_object_list(properties, "fields", _REQUIRED_FIELD_KEYS)
    participants = _check_object_list(properties, "participantProfiles", _REQUIRED_PARTICIPANT_KEYS)
    for index, participant in enumerate(participants):
        _check_object_list(
            participant,
            "participantPropertyReferences",
            _REQUIRED_REFERENCE_KEYS,
            prefix=f"properties.participantProfiles[{index}].",
        )
    return properties


def check_provisioning_state(properties: dict[str, Any], current: str | None) -> None:
    """A sent `provisioningState` is ignored when it equals the current one, refused otherwise."""
    if "provisioningState" not in properties:
        return
    sent = properties["provisioningState"]
    if current is None or not isinstance(sent, str) or sent.lower() != current.lower():
        raise errors.read_only_provisioning_state(sent, current)


def _check_name(target: str, name: str, pattern: re.Pattern[str], limit: int, rule: str) -> None:
    if len(name) > limit:
        raise errors.invalid_resource_name(target, name, f"it must be at most {limit} characters.")
    if not pattern.fullmatch(name):
        raise errors.invalid_resource_name(
            target,
            name,
            f"it must match '^{pattern.pattern}$' ({rule}, at least 2 characters).",
        )


def _check_object_list(
    container: dict[str, Any],
    key: str,
    required: tuple[str, ...],
    *,
    prefix: str = "properties.",
) -> list[dict[str, Any]]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.invalid_request_content(
            f"'{prefix}{key}' must be a JSON array.", target=f"{prefix}{key}"
        )
    for index, item in enumerate(value):
        target = f"{prefix}{key}[{index}]"
        if not isinstance(item, dict):
            raise errors.invalid_request_content(
                f"'{target}' must be a JSON object.", target=target
            )
        for name in required:
            if item.get(name) is None or item.get(name) == "":
                raise errors.invalid_request_content(
                    f"The required property '{name}' is missing from '{target}'.",
                    target=f"{target}.{name}",
                )
    return value
