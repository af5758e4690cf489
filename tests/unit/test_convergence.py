"""The convergence verdict as a table: request body, ARM's GET body, change and paths."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.arm.resources import InteractionRecord, render
from shared.convergence import Change, Verdict, compare
from shared.models import InteractionTypeDefinition

DESIRED: dict[str, Any] = InteractionTypeDefinition.model_validate(
    {
        "apiEntitySetName": "WebVisits",
        "idPropertyNames": ["VisitId"],
        "displayName": {"en-us": "Web visit"},
        "fields": [
            {"fieldName": "VisitId", "fieldType": "Edm.String", "isRequired": True},
            {"fieldName": "Duration", "fieldType": "Edm.Int32"},
        ],
    }
).to_arm_body()


def live(properties: dict[str, Any], *, state: str = "Succeeded") -> dict[str, Any]:
    """What the ARM emulator's GET returns for these stored properties."""
    record = InteractionRecord(
        subscription="sub1",
        resource_group="rg1",
        hub="hub1",
        name="WebVisit",
        properties=properties,
        provisioning_state=state,
        visible=True,
        last_changed="2026-01-01T00:00:00Z",
    )
    return render(record, locale=None)


def edited(**changes: Any) -> dict[str, Any]:
    """The desired properties with some keys replaced (None removes one)."""
    properties = dict(DESIRED["properties"])
    for key, value in changes.items():
        if value is None:
            properties.pop(key)
        else:
            properties[key] = value
    return properties


FIELDS = DESIRED["properties"]["fields"]


@pytest.mark.parametrize(
    ("live_body", "verdict"),
    [
        pytest.param(None, Verdict(Change.CREATED, ("$",)), id="404-created"),
        pytest.param(
            live(DESIRED["properties"]), Verdict(Change.NONE, ()), id="echo-with-arm-fields"
        ),
        pytest.param(
            live(DESIRED["properties"], state="Provisioning"),
            Verdict(Change.NONE, ()),
            id="server-owned-fields-ignored",
        ),
        pytest.param(
            {"Properties": {k.upper(): v for k, v in DESIRED["properties"].items()}},
            Verdict(Change.NONE, ()),
            id="key-case-ignored",
        ),
        pytest.param(
            live(edited(fields=[{**FIELDS[0], "fieldType": "edm.string"}, FIELDS[1]])),
            Verdict(Change.NONE, ()),
            id="edm-type-casing-ignored",
        ),
        pytest.param(
            live(edited(fields=[FIELDS[1], FIELDS[0]])),
            Verdict(Change.NONE, ()),
            id="fields-reordered",
        ),
        pytest.param(
            live(edited(apiEntitySetName="Visits")),
            Verdict(Change.UPDATED, ("$.properties.apiEntitySetName",)),
            id="scalar-differs",
        ),
        pytest.param(
            live(edited(displayName={"en-us": "web visit"})),
            Verdict(Change.UPDATED, ("$.properties.displayName.en-us",)),
            id="display-text-casing-counts",
        ),
        pytest.param(
            live(edited(idPropertyNames=None)),
            Verdict(Change.UPDATED, ("$.properties.idPropertyNames",)),
            id="property-missing",
        ),
        pytest.param(
            live(edited(fields=[{**FIELDS[0], "isRequired": False}, FIELDS[1]])),
            Verdict(Change.UPDATED, ("$.properties.fields[0].isRequired",)),
            id="field-flag-differs",
        ),
        pytest.param(
            live(edited(fields=[FIELDS[0]])),
            Verdict(Change.UPDATED, ("$.properties.fields",)),
            id="field-removed",
        ),
        pytest.param(
            live(edited(fields=[FIELDS[0], {**FIELDS[1], "fieldName": "Length"}])),
            Verdict(Change.UPDATED, ("$.properties.fields[1]",)),
            id="field-renamed",
        ),
        pytest.param(
            live(edited(idPropertyNames=["visitid"])),
            Verdict(Change.UPDATED, ("$.properties.idPropertyNames[0]",)),
            id="list-value-differs",
        ),
        pytest.param(
            live(edited(apiEntitySetName="Visits", displayName={"en-us": "Visit"})),
            Verdict(
                Change.UPDATED,
                ("$.properties.apiEntitySetName", "$.properties.displayName.en-us"),
            ),
            id="several-paths",
        ),
        pytest.param(
            {"properties": "odd"}, Verdict(Change.UPDATED, ("$.properties",)), id="odd-body"
        ),
    ],
)
def test_verdict(live_body: dict[str, Any] | None, verdict: Verdict) -> None:
    """Only what the request sets decides, in the request's spelling of each path."""
    assert compare(DESIRED, live_body) == verdict


def test_extra_live_properties_do_not_count() -> None:
    """A property set in the portal but absent from the request is not the request's concern."""
    extra = live(edited(timestampFieldName="VisitedAt"))
    assert compare(DESIRED, extra) == Verdict(Change.NONE, ())
