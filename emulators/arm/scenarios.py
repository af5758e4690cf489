"""How a PUT's long-running operation behaves, chosen per hub through the control API."""

from __future__ import annotations

import threading
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

Mode = Literal["location", "async-operation", "provisioning-state", "sync"]
FinalState = Literal["Succeeded", "Failed", "HumanIntervention", "Canceled"]
RetryAfterForm = Literal["seconds", "http-date", "none"]

_CAMEL = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class OperationError(BaseModel):
    """The `error` an operation ending in Failed or Canceled reports."""

    model_config = _CAMEL

    code: str = Field(min_length=1)
    message: str = Field(min_length=1)


class Scenario(BaseModel):
    """The body of `PUT /_emulator/scenario` and `PUT /_emulator/hubs/{hub}/scenario`.

    Every field is optional; a PUT replaces the whole scenario, so omitted fields take these
    defaults. `pollsUntilDone` counts status reads (operation URL or resource GET): the read
    with that number sees the final state. `durationSeconds`, when set, ends the operation by
    wall clock instead.
    """

    model_config = _CAMEL

    mode: Mode = "location"
    polls_until_done: int = Field(default=2, ge=0)
    duration_seconds: float | None = Field(default=None, ge=0)
    retry_after: int = Field(default=1, ge=0)
    retry_after_form: RetryAfterForm = "seconds"
    final_state: FinalState = "Succeeded"
    error: OperationError | None = None
    hidden_until_done: bool = False
    location_host: str | None = None

    @field_validator("location_host")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ValueError("locationHost must be an origin such as 'http://evil.example:1234'")
        return f"{parts.scheme}://{parts.netloc}"

    def final_error(self) -> OperationError:
        """The error to report for a Failed or Canceled ending."""
        if self.error is not None:
            return self.error
        if self.final_state == "Canceled":
            return OperationError(code="Canceled", message="The operation was canceled.")
        return OperationError(
            code="ProvisioningFailed", message="Provisioning of the interaction type failed."
        )


class ScenarioBook:
    """The default scenario plus per-hub overrides (hub names case-insensitive), thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._default = Scenario()
        self._by_hub: dict[str, Scenario] = {}

    def for_hub(self, hub: str) -> Scenario:
        """The hub's scenario, or the default."""
        with self._lock:
            return self._by_hub.get(hub.lower(), self._default)

    def set_default(self, scenario: Scenario) -> None:
        """Replace the scenario of hubs without their own."""
        with self._lock:
            self._default = scenario

    def set_for_hub(self, hub: str, scenario: Scenario) -> None:
        """Replace one hub's scenario."""
        with self._lock:
            self._by_hub[hub.lower()] = scenario

    def clear(self) -> None:
        """Back to the built-in default, with no overrides."""
        with self._lock:
            self._default = Scenario()
            self._by_hub.clear()
