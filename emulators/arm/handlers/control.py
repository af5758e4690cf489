"""The `/_emulator/...` control API: journal, scenarios, faults and throttling budgets."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from emulators.arm import errors
from emulators.arm.constants import DEFAULT_READS_PER_HOUR, DEFAULT_WRITES_PER_HOUR
from emulators.arm.faults import ArmFault
from emulators.arm.scenarios import Scenario, ScenarioBook
from emulators.arm.throttling import SubscriptionThrottle
from emulators.common import (
    ControlBodyError,
    FaultPlan,
    Request,
    RequestJournal,
    Response,
    empty_response,
    json_response,
    parse_control_body,
)


class ThrottlingBudgets(BaseModel):
    """The body of `PUT /_emulator/throttling`; omitted budgets go back to ARM's defaults."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    writes_per_hour: int = Field(default=DEFAULT_WRITES_PER_HOUR, ge=1)
    reads_per_hour: int = Field(default=DEFAULT_READS_PER_HOUR, ge=1)


class ControlHandlers:
    """Handlers behind the control routes; none needs a token, none is journaled."""

    def __init__(
        self,
        *,
        journal: RequestJournal,
        scenarios: ScenarioBook,
        faults: FaultPlan[ArmFault],
        throttle: SubscriptionThrottle,
    ) -> None:
        self._journal = journal
        self._scenarios = scenarios
        self._faults = faults
        self._throttle = throttle

    def list_requests(self, request: Request) -> Response:
        """`GET /_emulator/requests[?method=PUT&pathContains=...]`."""
        entries = self._journal.entries(
            method=request.query.get("method"), path_contains=request.query.get("pathContains")
        )
        return json_response(200, {"requests": entries})

    def clear_requests(self, request: Request) -> Response:
        """`DELETE /_emulator/requests`."""
        self._journal.clear()
        return empty_response(204)

    def set_default_scenario(self, request: Request) -> Response:
        """`PUT /_emulator/scenario`: the scenario of hubs without their own."""
        scenario = _parse(request, Scenario)
        self._scenarios.set_default(scenario)
        return json_response(200, scenario.model_dump(by_alias=True))

    def set_hub_scenario(self, request: Request) -> Response:
        """`PUT /_emulator/hubs/{hub}/scenario`."""
        scenario = _parse(request, Scenario)
        self._scenarios.set_for_hub(request.params["hub"], scenario)
        return json_response(200, scenario.model_dump(by_alias=True))

    def add_fault(self, request: Request) -> Response:
        """`POST /_emulator/faults`: the next `count` matching requests misbehave."""
        fault = _parse(request, ArmFault)
        self._faults.add(fault)
        return json_response(201, fault.model_dump(by_alias=True, mode="json"))

    def set_throttling(self, request: Request) -> Response:
        """`PUT /_emulator/throttling`: new budgets, every bucket full again."""
        budgets = _parse(request, ThrottlingBudgets)
        self._throttle.configure(
            writes_per_hour=budgets.writes_per_hour, reads_per_hour=budgets.reads_per_hour
        )
        return json_response(200, budgets.model_dump(by_alias=True))


M = TypeVar("M", bound=BaseModel)


def _parse[M: BaseModel](request: Request, model: type[M]) -> M:
    try:
        return parse_control_body(request, model)
    except ControlBodyError as err:
        raise errors.invalid_control_request(str(err)) from err
