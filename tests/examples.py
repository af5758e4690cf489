"""The public doc's example request, addressed and varied for tests, and the ids the app derives."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.models import ProvisioningRequest
from shared.operation import OperationInput, Source, operation_id_for
from shared.settings import Settings
from shared.validation import parse_envelope

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
RESOURCE_GROUP = "tests-rg"
# The public doc's example request, as a file (the tools read it by path) and parsed.
EXAMPLE_FILE = ROOT / "examples" / "interaction.json"
EXAMPLE: dict[str, Any] = json.loads(EXAMPLE_FILE.read_text())


def envelope(
    hub: str, name: str = "WebVisit", *, request_id: str | None = None, **changes: Any
) -> dict[str, Any]:
    """The doc example addressed to `hub`/`name`, with definition fields changed as given."""
    body: dict[str, Any] = copy.deepcopy(EXAMPLE)
    body["target"] = {"hub": hub, "interactionName": name}
    body["definition"].update(changes)
    if request_id is not None:
        body["requestId"] = request_id
    return body


def operation_id_of(body: dict[str, Any]) -> str:
    """The operation id the app derives for an envelope, test defaults applied."""
    request = parse_envelope(
        body, default_subscription_id=SUBSCRIPTION, default_resource_group=RESOURCE_GROUP
    )
    return operation_id_for(request.target)


# The doc example as the unit tests address it: the subscription and resource group of the
# public swagger example (docs/contracts/arm-lro.md §3), and the time its operation is submitted.
DOC_SUBSCRIPTION = "c909e979-ef71-4def-a970-bc7c154db8c5"
DOC_RESOURCE_GROUP = "TestHubRG"
OTHER_SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)

# The field flags ARM's PUT and GET answers report false when the request did not set them (the
# swagger example's 200 response, docs/contracts/arm-lro.md §3); the ARM emulator must match.
UNSET_FIELD_FLAGS: dict[str, bool] = {
    "isArray": False,
    "isEnum": False,
    "isFlagEnum": False,
    "isImage": False,
    "isLocalizedString": False,
    "isName": False,
}


def doc_example() -> dict[str, Any]:
    """examples/interaction.json: a valid envelope whose target relies on the defaults."""
    return copy.deepcopy(EXAMPLE)


def doc_request(data: dict[str, Any] | None = None) -> ProvisioningRequest:
    """An envelope (the doc example by default) parsed with the doc subscription and group."""
    return parse_envelope(
        doc_example() if data is None else data,
        default_subscription_id=DOC_SUBSCRIPTION,
        default_resource_group=DOC_RESOURCE_GROUP,
    )


def operation_input(
    request: ProvisioningRequest | None = None,
    *,
    request_id: str | None = "req-1",
    correlation_id: str = "corr-1",
    source: Source = "queue",
    settings: Settings | None = None,
) -> OperationInput:
    """The operation a request (the doc example by default) starts, submitted at T0."""
    request = doc_request() if request is None else request
    return OperationInput.create(
        target=request.target,
        arm_body=request.definition.to_arm_body(),
        definition_hash=request.definition_hash(),
        request_id=request_id,
        correlation_id=correlation_id,
        source=source,
        submitted_at=T0,
        settings=Settings.from_environ({}) if settings is None else settings,
    )
