"""One emulator stack and one host (its worker a process of its own) with a virtual clock for
this package."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devhost.durable import VirtualClock
from devhost.host import Host
from devhost.host_thread import HostThread
from emulators.testing import EmulatorStack, skip_without_azurite
from tests.examples import RESOURCE_GROUP, ROOT, SUBSCRIPTION
from tests.orchestration.harness import AppUnderTest

# Small generations make continue-as-new happen in every multi-poll test.
POLLS_PER_GENERATION = 3


@pytest.fixture(scope="package", name="app")
def _app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppUnderTest]:
    skip_without_azurite()
    state: Path = tmp_path_factory.mktemp("orchestration")
    with EmulatorStack(azurite=True, azurite_location=state / "azurite") as stack:
        settings = {
            **stack.settings(),
            "DEFAULT_SUBSCRIPTION_ID": SUBSCRIPTION,
            "DEFAULT_RESOURCE_GROUP": RESOURCE_GROUP,
            "POLLS_PER_GENERATION": str(POLLS_PER_GENERATION),
        }
        clock = VirtualClock(datetime.now(UTC))
        host = Host(
            app_dir=ROOT,
            settings=settings,
            state_dir=state / "devhost",
            clock=clock,
            start_listeners=False,
        )
        thread = HostThread(host)
        try:
            yield AppUnderTest(thread=thread, stack=stack, clock=clock)
        finally:
            thread.stop()
