"""The deployment templates as data: parsed Bicep (pycep-parser), azure.yaml, the app's bindings."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pycep import BicepParser

from tests.app_functions import app_functions

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

BicepJson = dict[str, Any]


def parse_bicep(text: str) -> BicepJson:
    """pycep-parser's JSON for one template (a copy); raises on a syntax error."""
    return copy.deepcopy(_parse(text))


@lru_cache(maxsize=64)
def _parse(text: str) -> BicepJson:
    # Parsing takes about a second a template and the broken copies share most of them.
    # pycep's TypedDict describes its output only in part; the tests read it as plain JSON.
    parsed: BicepJson = json.loads(json.dumps(BicepParser().parse(text=text), default=str))
    return parsed


@dataclass(frozen=True)
class Assignment:
    """One role assignment: who, which role (a key of rbac.bicep's `roles`), on what."""

    principal: str
    role: str
    scope_type: str
    scope_name: str


def resource_config(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's body; a conditional one (`= if (...) {...}`) nests it under its condition."""
    config: dict[str, Any] = resource["config"]
    return config["config"] if "condition" in config else config


def app_settings(api: BicepJson) -> dict[str, Any]:
    """api.bicep's top-level `appSettings` variable."""
    settings: dict[str, Any] = api["variables"]["appSettings"]["value"]
    return settings


def role_assignments(rbac: BicepJson) -> list[Assignment]:
    """rbac.bicep's role assignments, each resolved to its `roles` key and scope resource."""
    resources: dict[str, Any] = rbac["resources"]
    role_keys = set(rbac["variables"]["roles"]["value"])
    found = []
    for resource in resources.values():
        if resource["type"] != "Microsoft.Authorization/roleAssignments":
            continue
        config = resource_config(resource)
        definition = json.dumps(config["properties"]["roleDefinitionId"])
        (role,) = [key for key in role_keys if f'"{key}"' in definition] or ["<not in roles>"]
        scope = resources[config["scope"]]
        found.append(
            Assignment(
                principal=str(config["properties"]["principalId"]),
                role=role,
                scope_type=scope["type"],
                scope_name=str(resource_config(scope)["name"]),
            )
        )
    return found


@lru_cache(maxsize=1)
def binding_list() -> tuple[dict[str, Any], ...]:
    """Every binding of every function, as the worker reports it (metadata only, no I/O)."""
    return tuple(
        json.loads(raw) for function in app_functions() for raw in function.get_raw_bindings()
    )
