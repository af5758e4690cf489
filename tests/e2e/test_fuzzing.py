"""The fuzz suite's ARM journal check can fail: it flags each kind of invalid write."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.e2e.fuzzing import invalid_arm_writes
from tests.examples import EXAMPLE, RESOURCE_GROUP, SUBSCRIPTION

PATH = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
    "/providers/Microsoft.CustomerInsights/hubs/FuzzHub/interactions/Fuzz1"
)


def put(body: Any, *, status: int = 201, path: str = PATH) -> dict[str, Any]:
    return {"method": "PUT", "path": path, "body": body, "status": status}


def test_a_valid_put_passes() -> None:
    assert invalid_arm_writes([put({"properties": EXAMPLE["definition"]})]) == []


def _empty_field_name() -> dict[str, Any]:
    definition = copy.deepcopy(EXAMPLE["definition"])
    definition["fields"][0]["fieldName"] = ""
    return {"properties": definition}


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (put(_empty_field_name()), "must not be empty"),
        (put({"properties": EXAMPLE["definition"]}, status=400), "ARM answered 400"),
        (put({}, path="/subscriptions/x/other"), "PUT outside an interaction type"),
    ],
)
def test_each_kind_of_invalid_write_is_flagged(entry: dict[str, Any], reason: str) -> None:
    (flagged,) = invalid_arm_writes([entry, {"method": "GET", "path": PATH, "status": 200}])
    assert reason in flagged["reason"]
