"""The app's own error codes and exceptions; what ARM said stays ARM's (shared/arm_reply.py).

An outcome the app decides itself (a deadline, a cancel, a defect, a stopped orchestration) is
an `AppError`: the same wire shape as ARM's error object, so the status body and the completion
event read alike whichever side decided, but its own type and a code from `OutcomeCode`.
"""

from __future__ import annotations

from enum import StrEnum

from shared.arm_reply import ArmError


class OutcomeCode(StrEnum):
    """Codes of the outcomes the app decides itself, not ARM."""

    DEADLINE_EXCEEDED = "DeadlineExceeded"
    CANCELED_BY_REQUEST = "CanceledByRequest"
    # The orchestrator caught an exception (an activity that kept failing, a defect).
    OPERATION_ERROR = "OperationError"
    # The host stopped the orchestration (terminate) or it failed outside the orchestrator.
    ORCHESTRATION_STOPPED = "OrchestrationStopped"


class AppError(ArmError):
    """An outcome the app decided; same fields and limits as ARM's error, code from OutcomeCode."""

    code: OutcomeCode
