"""The app's own error codes and exceptions; what ARM said stays ARM's (shared/arm_reply.py).

An operation's status and completion event carry one error object, ARM's shape
(`{code, message, target, details}` plus the HTTP status). `ArmError` is the one ARM sent;
`AppError` is one the app wrote itself (a deadline, a cancel, a reply it could not use), with
a code from `AppCode`. Both are an `ErrorObject`, bounded so that any of them fits the
orchestration's custom status (docs/contracts/durable-protocol.md §12).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from shared.problems import Problem, cut, summary

if TYPE_CHECKING:
    from shared.operation import OperationView

# The Durable extension caps custom status at 16 KB of UTF-16 (8,192 code units); past it
# SetCustomStatus throws and the orchestration fails without its completion event. Every
# error is therefore bounded, whatever ARM sent: each text field is cut, at most MAX_DETAILS
# details are kept per level, and the whole error is kept within ERROR_BUDGET_UTF16 code units
# by dropping details, then cutting the message.
MAX_CODE_CHARS: Final = 100
MAX_MESSAGE_CHARS: Final = 1_000
MAX_TARGET_CHARS: Final = 200
MAX_DETAILS: Final = 5
ERROR_BUDGET_UTF16: Final = 3_000


class AppCode(StrEnum):
    """Codes of the errors the app writes itself; ARM's own codes pass through unchanged."""

    DEADLINE_EXCEEDED = "DeadlineExceeded"
    CANCELED_BY_REQUEST = "CanceledByRequest"
    # The orchestrator caught an exception (an activity that kept failing, a defect).
    OPERATION_ERROR = "OperationError"
    # The host stopped the orchestration (terminate) or it failed outside the orchestrator.
    ORCHESTRATION_STOPPED = "OrchestrationStopped"
    # A poll header pointed away from ARM_ENDPOINT (docs/contracts/arm-lro.md §5).
    UNTRUSTED_POLL_URL = "UntrustedPollUrl"
    HUMAN_INTERVENTION_REQUIRED = "HumanInterventionRequired"
    UNKNOWN_PROVISIONING_STATE = "UnknownProvisioningState"
    # ARM reported Failed or Canceled without an error object of its own.
    PROVISIONING_FAILED = "ProvisioningFailed"
    PROVISIONING_CANCELED = "ProvisioningCanceled"
    INVALID_OPERATION_STATUS = "InvalidOperationStatus"
    UNEXPECTED_RESPONSE = "UnexpectedResponse"
    # ARM failed the call without a readable error object, or did not answer at all.
    HTTP_ERROR = "HttpError"
    TRANSPORT_ERROR = "TransportError"
    # whatIf could not read the live resource.
    ARM_READ_ERROR = "ArmReadError"


class ProblemCode(StrEnum):
    """Codes of the problems the app finds itself; schema violations keep pydantic's codes."""

    MODEL_TYPE = "model_type"
    INVALID_JSON = "invalid_json"
    INVALID_FLAG = "invalid_flag"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    OPERATION_IN_PROGRESS = "operation_in_progress"
    TARGET_OUT_OF_SCOPE = "target_out_of_scope"
    WHAT_IF_HTTP_ONLY = "what_if_http_only"
    REQUEST_ID_REUSED = "request_id_reused"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"


class ErrorObject(BaseModel):
    """The error an operation reports: code, message, target, details and the HTTP status."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    target: str | None = None
    # Self: ARM's details are ARM's errors, so they read back as ArmError too.
    details: list[Self] = []
    status: int | None = None

    @field_validator("code", "message", "target", mode="before")
    @classmethod
    def _cut_text(cls, value: object, info: ValidationInfo) -> object:
        limits = {"code": MAX_CODE_CHARS, "message": MAX_MESSAGE_CHARS, "target": MAX_TARGET_CHARS}
        return cut(value, limits[str(info.field_name)]) if isinstance(value, str) else value

    @field_validator("details", mode="before")
    @classmethod
    def _keep_first_details(cls, value: object) -> object:
        return value[:MAX_DETAILS] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _fit_budget(self) -> ErrorObject:
        # The model is frozen and `ErrorObject(...)` keeps `self`, so the validator shrinks it
        # in place (pydantic ignores another instance returned from here on __init__).
        while utf16_units(self) > ERROR_BUDGET_UTF16 and self.details:
            object.__setattr__(self, "details", self.details[:-1])
        excess = utf16_units(self) - ERROR_BUDGET_UTF16
        if excess > 0:
            keep = max(0, len(self.message) - excess - 1)
            object.__setattr__(self, "message", cut(self.message, keep))
        return self


class AppError(ErrorObject):
    """An error the app wrote itself, not one ARM sent."""

    code: AppCode


def utf16_units(error: ErrorObject) -> int:
    """The error's JSON size as the Durable extension measures custom status: UTF-16 units."""
    text = json.dumps(error.model_dump(mode="json"), ensure_ascii=False)
    return len(text.encode("utf-16-le")) // 2


# The name is the contract the intakes were written against, hence no "Error" suffix.
class InvalidRequest(Exception):  # noqa: N818
    """A request that cannot be provisioned; `problems` lists every reason found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(summary(self.problems))


class IdentifierReused(InvalidRequest):
    """A requestId or Idempotency-Key already used for another definition of the resource.

    A conflict with an earlier request, not a malformed one: 409 over HTTP; a queue message or
    event is dead-lettered like any other invalid request.
    """


class ConflictError(Exception):
    """A different definition arrived while the resource's operation is still running."""

    def __init__(self, view: OperationView) -> None:
        self.view = view
        super().__init__(
            f"operation {view.operation_id} for {view.resource_id} is still {view.status.value}"
        )


class ArmReadError(Exception):
    """ARM could not be read, so whatIf has no verdict to give."""

    def __init__(self, error: ErrorObject) -> None:
        self.error = error
        super().__init__(error.message)


class UntrustedUrlError(ValueError):
    """A request to a host other than the configured ARM endpoint was refused."""


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names it."""
