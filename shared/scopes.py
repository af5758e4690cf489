"""Which ARM scopes the app may write (`WRITE_SCOPES`), and the refusal for any other target.

The deployment assigns the app's ARM role at exactly these scopes (infra/main.bicep, one
parameter for both), so a target outside them would only fail at ARM with a 403 after the
operation had started; refusing it at intake tells the caller at once and spends no ARM call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shared.errors import ProblemCode
from shared.models import Target
from shared.problems import Problem

# /subscriptions/{id}, optionally /resourceGroups/{name}, optionally a Customer Insights hub.
_SCOPE = re.compile(
    r"^/subscriptions/[^/]+"
    r"(?:/resourceGroups/[^/]+(?:/providers/Microsoft\.CustomerInsights/hubs/[^/]+)?)?$",
    re.IGNORECASE,
)
SCOPE_FORMS = (
    "/subscriptions/{id}, /subscriptions/{id}/resourceGroups/{name} or "
    "/subscriptions/{id}/resourceGroups/{name}/providers/Microsoft.CustomerInsights/hubs/{hub}"
)


def parse_scopes(raw: str) -> tuple[str, ...]:
    """The scopes in a comma- or whitespace-separated list; ValueError names a malformed one."""
    scopes = tuple(item.rstrip("/") for item in re.split(r"[,\s]+", raw) if item)
    bad = [scope for scope in scopes if not _SCOPE.match(scope)]
    if bad:
        raise ValueError(f"{', '.join(map(repr, bad))} is not a scope; use {SCOPE_FORMS}")
    return scopes


def out_of_scope(target: Target, scopes: Iterable[str]) -> Problem | None:
    """None when `target` lies in one of `scopes` (no scopes: any target), else the refusal.

    ARM ids compare case-insensitively; a scope contains the ids below it segment by segment,
    so `/subscriptions/a/resourceGroups/rg` does not contain `.../resourceGroups/rg2/...`.
    """
    listed = tuple(scopes)
    if not listed:
        return None
    resource = target.normalized_id
    if any(resource.startswith(scope.lower() + "/") for scope in listed):
        return None
    return Problem(
        path="$",
        code=ProblemCode.TARGET_OUT_OF_SCOPE,
        message=f"{target.resource_path} is outside the scopes this app may write "
        f"(WRITE_SCOPES: {', '.join(listed)})",
    )
