"""`python -m devhost` as a process: serving, surviving SIGKILL, refusing bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devhost.keys import DURABLETASK_EXTENSION_KEY_SETTING
from tests.devhost.conftest import DURABLETASK_KEY, FUNCTION_KEY, MASTER_KEY, start_notify_twice
from tests.devhost.support import (
    REPO_ROOT,
    SAMPLE_APP,
    DevhostProcess,
    EventGridSink,
    free_port,
    wait_until,
)

# 60 orchestration seconds at 30x: a 2 s timer, long enough to kill the host inside it.
TIME_SCALE = "30"
DELAY_SECONDS = 60


@pytest.fixture
def devhost_args(tmp_path: Path, sample_settings: dict[str, str]) -> list[str]:
    """Arguments serving the sample app with a settings file and a state dir in tmp_path: the
    function and master keys as options, the durable webhook's key as a setting."""
    settings_file = tmp_path / "local.settings.json"
    values = {**sample_settings, DURABLETASK_EXTENSION_KEY_SETTING: DURABLETASK_KEY}
    settings_file.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    return [
        "--app-dir", str(SAMPLE_APP),
        "--settings", str(settings_file),
        "--state-dir", str(tmp_path / "state"),
        "--time-scale", TIME_SCALE,
        "--function-key", FUNCTION_KEY,
        "--master-key", MASTER_KEY,
    ]  # fmt: skip


StartDevhost = Callable[..., DevhostProcess]


@pytest.fixture
def start_devhost(devhost_args: list[str], tmp_path: Path) -> Iterator[StartDevhost]:
    """Start `python -m devhost` with `devhost_args`, on `port` (a free one unless given) and
    logging to `log_name` in tmp_path; every host started is stopped at the end."""
    started: list[DevhostProcess] = []

    def start(*, port: int | None = None, log_name: str = "host.log") -> DevhostProcess:
        process = DevhostProcess(
            devhost_args,
            port=free_port() if port is None else port,
            log_path=tmp_path / log_name,
            master_key=MASTER_KEY,
        )
        started.append(process)
        process.start()
        return process

    yield start
    for process in started:
        process.stop()


def status(url: str) -> dict[str, Any]:
    body: dict[str, Any] = requests.get(url, timeout=10).json()
    return body


class TestCommandLine:
    def test_killed_host_resumes_orchestration_without_redoing_work(
        self,
        start_devhost: StartDevhost,
        topic: EventGridSink,
    ) -> None:
        """After SIGKILL mid-timer, a restart on the same state dir finishes the orchestration
        and the activity that had completed is not run again."""
        port = free_port()
        first = start_devhost(port=port, log_name="host-1.log")
        started = start_notify_twice(first.url, "kill", DELAY_SECONDS)
        assert started.status_code == 202, first.log()
        status_url = started.json()["statusQueryGetUri"]
        # "waiting" is set after the first activity's result is recorded, before the timer.
        wait_until(lambda: status(status_url)["customStatus"] == "waiting", what="the timer")
        first.kill()
        assert [e["data"]["step"] for e in topic.events()] == ["first"]

        second = start_devhost(port=port, log_name="host-2.log")
        final = wait_until(
            lambda: status(status_url)["runtimeStatus"] == "Completed" and status(status_url),
            timeout=20,
            what=f"completion\n{second.log()}",
        )
        assert final["output"] == ["notified first", "notified second"]
        assert [e["data"]["step"] for e in topic.events()] == ["first", "second"]
        assert "notify (activityTrigger) succeeded in" in first.log()
        assert "start_orchestration (httpTrigger) succeeded in" in first.log()

    def test_sigterm_stops_cleanly(self, start_devhost: StartDevhost) -> None:
        """SIGTERM stops the host with exit code 0, after it listed its functions."""
        host = start_devhost()
        assert requests.get(f"{host.url}/api/ping", timeout=10).text == "pong"
        assert host.stop() == 0
        assert f"ping: [GET] {host.url}/api/ping" in host.log()

    def test_second_host_on_a_state_dir_in_use_exits_1(
        self, start_devhost: StartDevhost, devhost_args: list[str], tmp_path: Path
    ) -> None:
        """A second host on a running host's state dir says so in one line and exits 1."""
        start_devhost()  # the running host that holds the state dir
        result = subprocess.run(
            [sys.executable, "-m", "devhost", "--port", str(free_port()), *devhost_args],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        (error,) = [line for line in result.stderr.splitlines() if " ERROR " in line]
        assert f"state dir {(tmp_path / 'state').resolve()} is in use by another devhost" in error
        assert "Traceback" not in result.stderr

    @pytest.mark.parametrize(
        ("args", "code", "message"),
        [
            pytest.param(["--app-dir", "."], 1, "function_app.py not found", id="no-app"),
            pytest.param(
                ["--settings", "missing.json"], 2, "missing.json: file not found", id="no-settings"
            ),
        ],
    )
    def test_bad_input_exits_with_a_clear_message(
        self, tmp_path: Path, args: list[str], code: int, message: str
    ) -> None:
        """Bad options give an exit code and one clear line, not a traceback."""
        result = subprocess.run(
            [sys.executable, "-m", "devhost", "--port", str(free_port()), *args],
            cwd=tmp_path,
            env={"PYTHONPATH": str(REPO_ROOT), "PATH": ""},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == code
        assert message in result.stderr
        assert "Traceback" not in result.stderr
