"""The e2e session: Azurite and the emulators in this process, the app host as a child process.

The host runs the repo's app code unchanged from a copy in a temporary folder whose host.json
differs from the repo's only in `extensions.queues.visibilityTimeout` ("00:00:01") and
`maxDequeueCount` (3), so that retries reach the poison queue in seconds; every e2e test of the
session uses that copy.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.testing import EmulatorStack, skip_without_azurite
from tests.devhost.support import DevhostProcess
from tests.e2e.harness import (
    ACTIVE_HOSTS,
    REQUESTED,
    TIME_SCALE,
    Stack,
    devhost_process,
    log_tail,
    make_app_copy,
    start_host,
    write_settings,
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any]:
    """Append the tail of every running host's log to the report of a failed e2e test."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and item.get_closest_marker("e2e") is not None:
        for host in ACTIVE_HOSTS:
            report.sections.append((f"devhost log tail ({host.url})", log_tail(host)))


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's scratch folder: app copy, settings, host state and logs."""
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def emulators(e2e_dir: Path) -> Iterator[EmulatorStack]:
    """Azurite and the identity, ARM and Event Grid emulators on free loopback ports, with
    their state in a state dir so that the ARM emulator can restart (tests/e2e/test_faults.py)."""
    skip_without_azurite()
    with EmulatorStack(
        azurite=True, azurite_location=e2e_dir / "azurite", state_dir=e2e_dir / "emulators"
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def app_dir(e2e_dir: Path) -> Path:
    """The repo's app with the sped-up queue retry settings (see the module docstring)."""
    return make_app_copy(e2e_dir / "app")


@pytest.fixture(scope="session")
def settings_file(e2e_dir: Path, emulators: EmulatorStack) -> Path:
    """local.settings.json pointing the app at the emulators."""
    return write_settings(e2e_dir / "local.settings.json", emulators)


def _started(host: DevhostProcess, settings: Path) -> Iterator[DevhostProcess]:
    ACTIVE_HOSTS.append(host)
    try:
        start_host(host, settings)
        yield host
    finally:
        host.stop()
        ACTIVE_HOSTS.remove(host)


@pytest.fixture(scope="session")
def host(
    e2e_dir: Path, app_dir: Path, settings_file: Path, emulators: EmulatorStack
) -> Iterator[DevhostProcess]:
    """`python -m devhost` serving the app copy, with a sped-up durable clock."""
    process = devhost_process(
        app_dir=app_dir,
        settings=settings_file,
        state_dir=e2e_dir / "state",
        log_path=e2e_dir / "devhost.log",
        time_scale=TIME_SCALE,
    )
    yield from _started(process, settings_file)


@pytest.fixture(scope="session")
def intake_subscription(stack: Stack) -> dict[str, Any]:
    """The topic's push subscription for intake events, validated against the host."""
    response = stack.subscribe({"endpoint": stack.webhook_url(), "includedEventTypes": [REQUESTED]})
    assert response.status_code == 201, stack.explain(
        f"subscribing the host failed: {response.status_code} {response.text}"
    )
    subscription: dict[str, Any] = response.json()
    return subscription


@pytest.fixture(scope="session")
def stack(emulators: EmulatorStack, host: DevhostProcess) -> Stack:
    """The emulators and the host, with the calls tests make on them."""
    return Stack(emulators=emulators, host=host)


@pytest.fixture
def restartable_host(
    tmp_path: Path, app_dir: Path, settings_file: Path, emulators: EmulatorStack
) -> Iterator[DevhostProcess]:
    """A second host of the same app with its own state dir and port, in real time.

    Real time because the host's WallClock restarts at the current time: with a time scale
    above 1, orchestration time would jump back at a restart and recovered timers fire late.
    """
    process = devhost_process(
        app_dir=app_dir,
        settings=settings_file,
        state_dir=tmp_path / "state",
        log_path=tmp_path / "devhost.log",
        time_scale=1.0,
    )
    yield from _started(process, settings_file)
