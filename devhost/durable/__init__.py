"""A local durable backend for azure-functions-durable 1.x orchestrators (JSON replay protocol).

See `docs/architecture.md` ("The durable engine") and `devhost/durable/README.md`.
"""

from devhost.durable.clocks import VirtualClock, WallClock
from devhost.durable.engine import ActivityRunner, DurableEngine
from devhost.durable.errors import (
    InstanceExists,
    InstanceNotFound,
    InstanceNotRunning,
    InstanceStillRunning,
    UnknownOrchestrator,
)
from devhost.durable.protocol import (
    ActivityInvocationError,
    OrchestratorInvocationError,
    OrchestratorRunner,
)
from devhost.durable.store import SqliteStore

__all__ = [
    "ActivityInvocationError",
    "ActivityRunner",
    "DurableEngine",
    "InstanceExists",
    "InstanceNotFound",
    "InstanceNotRunning",
    "InstanceStillRunning",
    "OrchestratorInvocationError",
    "OrchestratorRunner",
    "SqliteStore",
    "UnknownOrchestrator",
    "VirtualClock",
    "WallClock",
]
