"""Is a definition already in effect? A pure comparison of the PUT body with ARM's GET body.

Only what the request sets is compared: ARM adds server-owned fields and fills in defaults
(emulators/arm/resources.py shows which), so extra keys on the live side never count as a
difference. Keys match case-insensitively. The result names each differing JSON path in the
request's own spelling, e.g. `$.properties.fields[1].isRequired`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, NamedTuple

from pydantic import JsonValue

from shared.arm_reply import ArmReply
from shared.models import InteractionTypeDefinition

# Enum-valued keys whose values ARM accepts in any letter case (shared/models.py `_edm_type`);
# every other string is compared exactly, since display names and descriptions are content.
_CASE_FOLDED_VALUES: Final = frozenset({"fieldtype", "entitytype"})
# Server-owned keys (swagger readOnly) never decide, whichever side carries them.
_SERVER_OWNED: Final = frozenset(key.lower() for key in InteractionTypeDefinition.read_only_keys)
# Interaction fields are identified by name, so a reordered list is the same definition.
_LIST_KEY: Final = "fieldname"


class Change(StrEnum):
    """What converging did, or would do, to the live resource."""

    CREATED = "created"
    UPDATED = "updated"
    NONE = "none"


class Verdict(NamedTuple):
    """The change a PUT would make and the JSON paths that differ."""

    change: Change
    changes: tuple[str, ...]


def compare(desired: dict[str, JsonValue], live: JsonValue | None) -> Verdict:
    """The verdict for PUT body `desired` against `live` (None: ARM answered 404)."""
    if live is None:
        return Verdict(Change.CREATED, tuple(_differences(desired, None, "$")))
    changes = tuple(_differences(desired, live, "$"))
    return Verdict(Change.UPDATED if changes else Change.NONE, changes)


def read_verdict(desired: dict[str, JsonValue], reply: ArmReply) -> Verdict:
    """The verdict from the read before the PUT.

    Only a Succeeded resource is in effect: one still provisioning belongs to another writer,
    and a Failed one must be written again. A read that could not be judged (an error, an odd
    body) leads to the PUT, as before convergence, which then reports ARM's own error if any.
    """
    if reply.status == 404:
        return compare(desired, None)
    body = reply.body
    if reply.status != 200 or not isinstance(body, dict):
        return Verdict(Change.UPDATED, ("$",))
    verdict = compare(desired, body)
    properties = body.get("properties")
    state = properties.get("provisioningState") if isinstance(properties, dict) else None
    if verdict.change is Change.NONE and isinstance(state, str) and state.lower() != "succeeded":
        return Verdict(Change.UPDATED, ("$.properties.provisioningState",))
    return verdict


def _differences(desired: JsonValue, live: JsonValue | None, path: str) -> list[str]:
    if isinstance(desired, dict):
        return _object_differences(desired, live, path)
    if isinstance(desired, list):
        return _list_differences(desired, live, path)
    return [] if desired == live else [path]


def _object_differences(
    desired: dict[str, JsonValue], live: JsonValue | None, path: str
) -> list[str]:
    if not isinstance(live, dict):
        return [path]
    held = {key.lower(): value for key, value in live.items()}
    found: list[str] = []
    for key, value in desired.items():
        folded = key.lower()
        if folded in _SERVER_OWNED:
            continue
        child = f"{path}.{key}"
        if folded not in held:
            found.append(child)
        elif folded in _CASE_FOLDED_VALUES and isinstance(value, str):
            other = held[folded]
            if not isinstance(other, str) or other.casefold() != value.casefold():
                found.append(child)
        else:
            found.extend(_differences(value, held[folded], child))
    return found


def _list_differences(desired: list[JsonValue], live: JsonValue | None, path: str) -> list[str]:
    if not isinstance(live, list) or len(live) != len(desired):
        return [path]
    by_name = {_item_name(item): item for item in live}
    found: list[str] = []
    for index, item in enumerate(desired):
        name = _item_name(item)
        # Named items (fields) pair by name, anything else by position.
        other = by_name.get(name) if name is not None else live[index]
        found.extend(_differences(item, other, f"{path}[{index}]"))
    return found


def _item_name(item: JsonValue) -> str | None:
    if not isinstance(item, dict):
        return None
    for key, value in item.items():
        if key.lower() == _LIST_KEY and isinstance(value, str):
            return value.lower()
    return None
