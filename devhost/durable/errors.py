"""Errors the durable engine raises to its callers.

The names are part of the engine's published contract, hence no `Error` suffix.
"""


class UnknownOrchestrator(ValueError):  # noqa: N818
    """No orchestrator is registered under the requested name."""


class InstanceExists(ValueError):  # noqa: N818
    """An instance with this id is still Pending or Running."""


class InstanceNotFound(LookupError):  # noqa: N818
    """No instance has this id."""


class InstanceNotRunning(ValueError):  # noqa: N818
    """The instance has already completed, failed or been terminated."""


class InstanceStillRunning(ValueError):  # noqa: N818
    """The operation needs a finished instance, and this one is still active."""
