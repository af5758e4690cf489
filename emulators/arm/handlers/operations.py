"""The operation URLs a PUT hands out: Location (operationResults) and Azure-AsyncOperation
(operationStatuses)."""

from __future__ import annotations

from typing import Any

from emulators.arm import errors
from emulators.arm.operations import IN_PROGRESS, Operation
from emulators.arm.resources import InteractionRecord, render
from emulators.arm.store import InteractionStore
from emulators.arm.wire import (
    OPERATION_RESULTS,
    OPERATION_STATUSES,
    operation_path,
    operation_url,
    retry_after_headers,
)
from emulators.common import Clock, Request, Response, empty_response, iso_utc, json_response

# Ends that leave a resource to show; Failed and Canceled answer with the operation's error.
_RESULT_WITH_RESOURCE = frozenset({"Succeeded", "HumanIntervention"})
# The Azure-AsyncOperation status vocabulary is InProgress, Succeeded, Failed and Canceled only:
# an operation that left its resource needing attention succeeded, and the resource's
# provisioningState says what it needs.
_STATUS_OF_FINAL_STATE = {"HumanIntervention": "Succeeded"}
# Failed and Canceled are terminal client errors on the Location URL, so callers stop instead
# of retrying as they would a 5xx.
_FAILED_RESULT_STATUS = 400


class OperationHandlers:
    """GET on `.../locations/{location}/operationResults|operationStatuses/{operation_id}`."""

    def __init__(self, *, store: InteractionStore, location: str, clock: Clock) -> None:
        self._store = store
        self._location = location
        self._clock = clock

    def result(self, request: Request) -> Response:
        """202 while running; then the resource (200) or the operation's error."""
        operation, record = self._poll(request)
        scenario = operation.scenario
        if operation.status == IN_PROGRESS:
            origin = scenario.location_host or request.base_url
            location = operation_url(
                origin, operation.subscription, self._location, OPERATION_RESULTS, operation.id
            )
            retry_after = retry_after_headers(scenario, self._clock())
            return empty_response(202, {"Location": location, **retry_after})
        if operation.status in _RESULT_WITH_RESOURCE:
            return json_response(200, render(record, locale=None))
        error = scenario.final_error()
        raise errors.operation_failed(_FAILED_RESULT_STATUS, error.code, error.message)

    def status(self, request: Request) -> Response:
        """Always 200 with the operation's status resource."""
        operation, _ = self._poll(request)
        body: dict[str, Any] = {
            "id": operation_path(
                operation.subscription, self._location, OPERATION_STATUSES, operation.id
            ),
            "name": operation.id,
            "status": _STATUS_OF_FINAL_STATE.get(operation.status, operation.status),
            "startTime": iso_utc(operation.started_at),
        }
        headers: dict[str, str] = {}
        if operation.finished_at is None:
            headers = retry_after_headers(operation.scenario, self._clock())
        else:
            body["endTime"] = iso_utc(operation.finished_at)
        if operation.status in ("Failed", "Canceled"):
            body["error"] = operation.scenario.final_error().model_dump()
        return json_response(200, body, headers)

    def _poll(self, request: Request) -> tuple[Operation, InteractionRecord]:
        operation_id = request.params["operation_id"]
        polled = self._store.poll(operation_id, request.params["subscription"])
        if polled is None:
            raise errors.operation_not_found(operation_id)
        return polled
