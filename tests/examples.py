"""The public doc's example request, addressed and varied for tests, and the ids the app derives."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from shared.operation import operation_id_for
from shared.validation import parse_envelope

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
RESOURCE_GROUP = "tests-rg"
EXAMPLE: dict[str, Any] = json.loads((ROOT / "examples" / "interaction.json").read_text())


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
