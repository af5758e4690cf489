"""Wire formats the ARM emulator writes: operation URLs and `Retry-After`."""

from __future__ import annotations

from email.utils import formatdate

from emulators.arm.constants import API_VERSION, PROVIDER
from emulators.arm.scenarios import Scenario

OPERATION_RESULTS = "operationResults"
OPERATION_STATUSES = "operationStatuses"


def operation_path(subscription: str, location: str, kind: str, operation_id: str) -> str:
    """`/subscriptions/{sub}/providers/{ns}/locations/{loc}/{kind}/{id}`."""
    locations = f"/subscriptions/{subscription}/providers/{PROVIDER}/locations/{location}"
    return f"{locations}/{kind}/{operation_id}"


def operation_url(
    origin: str, subscription: str, location: str, kind: str, operation_id: str
) -> str:
    """The absolute URL of an operation resource, with the api-version."""
    path = operation_path(subscription, location, kind, operation_id)
    return f"{origin}{path}?api-version={API_VERSION}"


def retry_after_headers(scenario: Scenario, now: float) -> dict[str, str]:
    """`Retry-After` in the scenario's form: delta-seconds, an IMF-fixdate, or absent."""
    if scenario.retry_after_form == "none":
        return {}
    if scenario.retry_after_form == "http-date":
        return {"Retry-After": formatdate(now + scenario.retry_after, usegmt=True)}
    return {"Retry-After": str(scenario.retry_after)}
