"""The real local stack for the submit tool's end-to-end tests: emulators, Azurite, devhost.

The app runs as `python -m devhost` with a settings file pointing at emulators on free ports,
and the local topic pushes intake events (only those) to its Event Grid trigger, as
scripts/run_local.py sets it up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from devhost.keys import EVENTGRID_EXTENSION_KEY_SETTING, FUNCTION_KEY_SETTING, MASTER_KEY_SETTING
from emulators.testing import EmulatorStack, emulator_stack_fixture, free_port
from shared.names import EVENTGRID_INTAKE
from tests.devhost.support import REPO_ROOT, DevhostProcess
from tests.examples import doc_example
from tools.intakes import REQUESTED_EVENT_TYPE

emulators = emulator_stack_fixture(scope="module", azurite=True)

FUNCTION_KEY = "tools-test-key"
# Durable timers (the waits between ARM polls) fire this many times sooner than in real time.
TIME_SCALE = 20


@dataclass(frozen=True)
class LocalApp:
    """The running app and what a client needs to reach it."""

    url: str
    settings_path: Path
    stack: EmulatorStack

    def submit(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """`python -m tools.submit ARGS` against this app; its exit code and output."""
        command = [sys.executable, "-m", "tools.submit", *args]
        command += ["--url", self.url, "--settings", str(self.settings_path)]
        return subprocess.run(
            command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )

    def completion_events(self, subject: str) -> list[dict[str, Any]]:
        """Events other than intake events that the topic received for `subject`."""
        response = requests.get(
            f"{self.stack.eventgrid.url}/_emulator/events", params={"subject": subject}, timeout=5
        )
        events: list[dict[str, Any]] = response.json()["events"]
        return [event for event in events if event["eventType"] != REQUESTED_EVENT_TYPE]


@pytest.fixture(scope="module")
def local_app(
    emulators: EmulatorStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalApp]:
    folder = tmp_path_factory.mktemp("app")
    sample = json.loads((REPO_ROOT / "local.settings.sample.json").read_text())
    # The sample's master and system keys are kept; the function key is this module's own.
    values = {**sample["Values"], **emulators.settings(), FUNCTION_KEY_SETTING: FUNCTION_KEY}
    settings_path = folder / "local.settings.json"
    settings_path.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    host = DevhostProcess(
        [
            "--settings",
            str(settings_path),
            "--state-dir",
            str(folder / "state"),
            "--time-scale",
            str(TIME_SCALE),
        ],
        port=free_port(),
        log_path=folder / "devhost.log",
        master_key=values[MASTER_KEY_SETTING],
    )
    host.start()
    try:
        webhook = (
            f"{host.url}/runtime/webhooks/eventgrid?functionName={EVENTGRID_INTAKE}"
            f"&code={values[EVENTGRID_EXTENSION_KEY_SETTING]}"
        )
        subscribed = requests.post(
            f"{emulators.eventgrid.url}/_emulator/subscriptions",
            json={"endpoint": webhook, "filter": {"includedEventTypes": [REQUESTED_EVENT_TYPE]}},
            timeout=30,
        )
        assert subscribed.status_code == 201, subscribed.text
        yield LocalApp(url=host.url, settings_path=settings_path, stack=emulators)
    finally:
        host.stop()


def envelope_file(folder: Path, interaction_name: str) -> Path:
    """examples/interaction.json with another interaction name, written into `folder`."""
    envelope = doc_example()
    envelope["target"]["interactionName"] = interaction_name
    path = folder / f"{interaction_name}.json"
    path.write_text(json.dumps(envelope))
    return path
