"""The provisioning orchestrator (logic in shared.provisioning, loaded on first run)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from shared.names import ORCHESTRATOR

bp = df.Blueprint()


@bp.function_name(ORCHESTRATOR)
@bp.orchestration_trigger(context_name="context")
def provision_interaction(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Any]:
    """PUT the interaction type, poll until ARM is done, publish the completion event."""
    from shared.provisioning import provision

    return (yield from provision(context))
