"""The ARM emulator: Customer Insights interactions with scripted long-running behaviour."""

from __future__ import annotations

import time
from pathlib import Path

from emulators.arm.constants import DEFAULT_READS_PER_HOUR, DEFAULT_WRITES_PER_HOUR
from emulators.arm.faults import ArmFault
from emulators.arm.handlers.control import ControlHandlers
from emulators.arm.handlers.interactions import InteractionHandlers
from emulators.arm.handlers.operations import OperationHandlers
from emulators.arm.pipeline import ArmPipeline
from emulators.arm.routes import api_router, control_router
from emulators.arm.scenarios import ScenarioBook
from emulators.arm.store import InteractionStore
from emulators.arm.throttling import SubscriptionThrottle
from emulators.common import EmulatorServer, FaultPlan, RequestJournal, TokenSigner


class ArmEmulator:
    """Serves `Microsoft.CustomerInsights/hubs/interactions` (api-version 2017-04-26).

    Tokens must come from `signer` (share it with the identity emulator). `location` names
    the region in the operation URLs it hands out. With `state_file`, resources and operations
    outlive a restart (emulators/README.md).
    """

    def __init__(
        self,
        *,
        signer: TokenSigner,
        port: int = 0,
        location: str = "westus",
        state_file: Path | None = None,
    ) -> None:
        clock = time.time
        self.journal = RequestJournal()
        self._store = InteractionStore(clock=clock, state_file=state_file)
        self._scenarios = ScenarioBook()
        self._faults: FaultPlan[ArmFault] = FaultPlan()
        self._throttle = SubscriptionThrottle(
            writes_per_hour=DEFAULT_WRITES_PER_HOUR,
            reads_per_hour=DEFAULT_READS_PER_HOUR,
            clock=clock,
        )
        pipeline = ArmPipeline(
            signer=signer,
            api=api_router(
                InteractionHandlers(
                    store=self._store, scenarios=self._scenarios, location=location, clock=clock
                ),
                OperationHandlers(store=self._store, location=location, clock=clock),
            ),
            control=control_router(
                ControlHandlers(
                    journal=self.journal,
                    scenarios=self._scenarios,
                    faults=self._faults,
                    throttle=self._throttle,
                )
            ),
            store=self._store,
            faults=self._faults,
            throttle=self._throttle,
            journal=self.journal,
        )
        self._server = EmulatorServer(pipeline, reset=self.reset, port=port, name="arm")

    @property
    def url(self) -> str:
        """The base URL (use it as `ARM_ENDPOINT`), e.g. `http://127.0.0.1:10100`."""
        return self._server.url

    def start(self) -> str:
        """Start serving and return the base URL."""
        return self._server.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def reset(self) -> None:
        """Forget resources, operations, scenarios, faults and the journal; budgets to default."""
        self._store.clear()
        self._scenarios.clear()
        self._faults.clear()
        self.journal.clear()
        self._throttle.configure(
            writes_per_hour=DEFAULT_WRITES_PER_HOUR, reads_per_hour=DEFAULT_READS_PER_HOUR
        )
