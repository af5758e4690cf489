"""What every fuzz test checks after its run: ARM received nothing the app should have refused."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from shared.problems import InvalidRequest
from shared.validation import parse_route_request
from tests.e2e.harness import Stack

_INTERACTION_PATH = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/Microsoft\.CustomerInsights/hubs/(?P<hub>[^/]+)/interactions/(?P<name>[^/]+)",
    re.IGNORECASE,
)


def journal_mark(stack: Stack) -> int:
    """How many requests the ARM emulator has recorded so far."""
    return len(stack.arm_journal())


def invalid_arm_writes(stack: Stack, since: int) -> list[dict[str, Any]]:
    """PUTs recorded after `since` that the app's own validation refuses, or ARM answered 4xx.

    Each is returned with the reason; an empty list means nothing invalid reached ARM.
    """
    found = []
    for entry in stack.arm_journal()[since:]:
        if entry["method"] != "PUT":
            continue
        match = _INTERACTION_PATH.fullmatch(unquote(entry["path"]))
        reason = None
        if match is None:
            reason = "PUT outside an interaction type"
        elif entry["status"] is not None and 400 <= entry["status"] < 500:
            reason = f"ARM answered {entry['status']}"
        else:
            try:
                parse_route_request(
                    hub=match["hub"],
                    interaction_name=match["name"],
                    body=entry["body"],
                    subscription_id=match["subscription"],
                    resource_group=match["group"],
                    request_id=None,
                    default_subscription_id=None,
                    default_resource_group=None,
                )
            except InvalidRequest as invalid:
                reason = str(invalid)
        if reason is not None:
            found.append({"path": entry["path"], "status": entry["status"], "reason": reason})
    return found
