"""WRITE_SCOPES: the list's forms, and which targets each scope contains (pure)."""

from __future__ import annotations

import asyncio

import pytest

from shared.errors import SettingsError
from shared.message_intake import Rejection, accept_message
from shared.models import Target
from shared.scopes import out_of_scope, parse_scopes
from shared.settings import Settings
from tests.examples import DOC_SUBSCRIPTION as SUB

TARGET = Target.model_validate(
    {"subscriptionId": SUB, "resourceGroup": "Hubs-RG", "hub": "Hub1", "interactionName": "Visit"}
)
HUB = f"/subscriptions/{SUB}/resourceGroups/Hubs-RG/providers/Microsoft.CustomerInsights/hubs/Hub1"


@pytest.mark.parametrize(
    ("scopes", "allowed"),
    [
        pytest.param((), True, id="unset-any-target"),
        pytest.param((f"/subscriptions/{SUB}",), True, id="subscription"),
        pytest.param((f"/subscriptions/{SUB.upper()}",), True, id="case-insensitive"),
        pytest.param((f"/subscriptions/{SUB}/resourceGroups/hubs-rg",), True, id="resource-group"),
        pytest.param((HUB,), True, id="hub"),
        pytest.param(("/subscriptions/other",), False, id="other-subscription"),
        pytest.param((f"/subscriptions/{SUB}/resourceGroups/Hubs",), False, id="prefix-of-group"),
        pytest.param((f"{HUB}2",), False, id="prefix-of-hub"),
        pytest.param((f"{HUB}2", f"/subscriptions/{SUB}"), True, id="any-of-several"),
    ],
)
def test_scope_contains_the_targets_below_it(scopes: tuple[str, ...], allowed: bool) -> None:
    """A scope contains the ids below it, segment by segment, in any casing."""
    assert (out_of_scope(TARGET, scopes) is None) is allowed


def test_refusal_names_the_target_and_the_scopes() -> None:
    """The problem says what was asked for and what is allowed."""
    problem = out_of_scope(TARGET, ("/subscriptions/other",))
    assert problem is not None
    assert problem.code == "target_out_of_scope"
    assert TARGET.resource_path in problem.message
    assert "/subscriptions/other" in problem.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("", (), id="empty"),
        pytest.param(f"/subscriptions/{SUB}", (f"/subscriptions/{SUB}",), id="one"),
        pytest.param(f" {HUB}/ ,\n/subscriptions/b ", (HUB, "/subscriptions/b"), id="list"),
    ],
)
def test_setting_reads_a_comma_or_space_separated_list(raw: str, expected: tuple[str, ...]) -> None:
    assert Settings.from_environ({"WRITE_SCOPES": raw}).write_scopes == expected
    assert parse_scopes(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("subscriptions/a", id="relative"),
        pytest.param("/subscriptions/a/resourceGroups", id="group-without-name"),
        pytest.param(f"{HUB}/interactions/Visit", id="below-a-hub"),
        pytest.param("/subscriptions/a/providers/Microsoft.Web/sites/x", id="other-resource"),
    ],
)
def test_malformed_scope_is_a_settings_error(raw: str) -> None:
    """A scope the deployment could not assign a role at is refused when settings are read."""
    with pytest.raises(SettingsError, match=r"WRITE_SCOPES.*is not a scope"):
        Settings.from_environ({"WRITE_SCOPES": raw})


def test_message_outside_the_scopes_is_rejected_before_any_client_call() -> None:
    """Queue/Event Grid intake: dead-letter record and Rejected event; the client is never used."""
    settings = Settings.from_environ({"WRITE_SCOPES": "/subscriptions/other"})
    body = {
        "target": {
            "subscriptionId": SUB,
            "resourceGroup": "Hubs-RG",
            "hub": "Hub1",
            "interactionName": "Visit",
        },
        "definition": {
            "fields": [{"fieldName": "Id", "fieldType": "Edm.String"}],
            "idPropertyNames": ["Id"],
        },
    }
    outcome = asyncio.run(
        accept_message(None, body, raw_text="", message_id="m-1", source="queue", settings=settings)
    )
    assert isinstance(outcome, Rejection)
    assert [r["code"] for r in outcome.record["reasons"]] == ["target_out_of_scope"]
    assert outcome.event.data.outcome == "Rejected"
