"""`python -m emulators` as a subprocess, the `EmulatorStack` it runs, and its settings file."""

from __future__ import annotations

import json
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from azure.identity import ManagedIdentityCredential
from azure.storage.queue import QueueClient

from emulators.__main__ import (
    SAMPLE_SETTINGS,
    SettingsFileError,
    merged_settings,
    write_settings,
)
from emulators.azurite import REPO_ROOT, port_accepts
from emulators.testing import EmulatorStack, free_port, skip_without_azurite

STARTUP_TIMEOUT_SECONDS = 30
EXIT_TIMEOUT_SECONDS = 20
EVENT = {
    "id": "evt-1",
    "subject": "interactions/Contact",
    "eventType": "Interactions.Provisioned",
    "eventTime": "2026-11-28T20:54:12Z",
}
SETTING_NAMES = {
    "AzureWebJobsStorage",
    "ARM_ENDPOINT",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "COMPLETION_TOPIC__topicEndpointUri",
    "COMPLETION_TOPIC__credential",
}


class Launcher:
    """`python -m emulators` in a child process, with its stdout read line by line."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "emulators", *args],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def settings(self) -> dict[str, str]:
        """The JSON block the launcher prints once everything is up."""
        text = ""
        while True:
            try:
                line = self._lines.get(timeout=STARTUP_TIMEOUT_SECONDS)
            except queue.Empty:
                pytest.fail(f"no settings within {STARTUP_TIMEOUT_SECONDS} s")
            if line is None:
                pytest.fail(f"launcher exited early:\n{self.stop()[1]}")
            text += line
            if line.rstrip() == "}":
                settings: dict[str, str] = json.loads(text)
                return settings

    def stop(self, sig: signal.Signals = signal.SIGINT) -> tuple[int, str]:
        """Send `sig`, then wait for the exit."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.wait()

    def wait(self) -> tuple[int, str]:
        """Wait for the exit and return the exit code and stderr."""
        _, stderr = self.process.communicate(timeout=EXIT_TIMEOUT_SECONDS)
        return self.process.returncode, stderr


@pytest.fixture
def launch() -> Iterator[Any]:
    started: list[Launcher] = []

    def start(*args: str) -> Launcher:
        started.append(Launcher(*args))
        return started[-1]

    yield start
    for launcher in started:
        if launcher.process.poll() is None:
            launcher.process.kill()
            launcher.process.wait()


def _emulator_ports() -> list[str]:
    return [
        *("--arm-port", str(free_port())),
        *("--identity-port", str(free_port())),
        *("--eventgrid-port", str(free_port())),
    ]


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class TestLauncher:
    @pytest.mark.parametrize(
        "stop_signal",
        [
            pytest.param(signal.SIGINT, id="ctrl-c"),
            pytest.param(signal.SIGHUP, id="terminal-closed"),
        ],
    )
    def test_starts_everything_prints_settings_and_stops_cleanly(
        self, launch, tmp_path, stop_signal
    ):
        """Printed endpoints answer, storage works, and SIGINT or SIGHUP exits 0 and frees every
        port, Azurite's (in its own session, so only the launcher can stop it) included."""
        skip_without_azurite()
        settings_file = tmp_path / "local.settings.json"
        settings_file.write_text(json.dumps({"Values": {"DEFAULT_RESOURCE_GROUP": "rg"}}))
        azurite_ports = [free_port(), free_port(), free_port()]
        launcher = launch(
            *_emulator_ports(),
            *("--blob-port", str(azurite_ports[0])),
            *("--queue-port", str(azurite_ports[1])),
            *("--table-port", str(azurite_ports[2])),
            *("--azurite-location", str(tmp_path / "azurite")),
            *("--write-settings", str(settings_file)),
        )

        settings = launcher.settings()

        assert set(settings) == SETTING_NAMES
        origins = [
            _origin(settings[name])
            for name in ("ARM_ENDPOINT", "IDENTITY_ENDPOINT", "COMPLETION_TOPIC__topicEndpointUri")
        ]
        for origin in origins:
            health = requests.get(f"{origin}/_emulator/health", timeout=5)
            assert health.json() == {"status": "ok"}, origin
        storage = QueueClient.from_connection_string(settings["AzureWebJobsStorage"], "launch")
        storage.create_queue()
        written = json.loads(settings_file.read_text())["Values"]
        assert written == {"DEFAULT_RESOURCE_GROUP": "rg", **settings}

        code, stderr = launcher.stop(stop_signal)

        assert code == 0, stderr
        assert "Emulators running" in stderr
        ports = [_port(url) for url in origins] + azurite_ports
        assert [port for port in ports if port_accepts("127.0.0.1", port)] == []

    def test_without_azurite_storage_is_the_development_default_and_sigterm_exits_0(self, launch):
        """`--no-azurite` leaves storage to an Azurite on default ports; SIGTERM stops cleanly."""
        launcher = launch(*_emulator_ports(), "--no-azurite")

        settings = launcher.settings()
        code, stderr = launcher.stop(signal.SIGTERM)

        assert settings["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
        assert settings["COMPLETION_TOPIC__credential"] == "managedidentity"
        assert settings["IDENTITY_HEADER"] == "local-identity-header"
        assert code == 0, stderr

    def test_declared_client_id_is_the_only_user_assigned_identity(self, launch):
        """`--client-id` names a user-assigned identity that gets tokens; others do not exist."""
        launcher = launch(*_emulator_ports(), "--no-azurite", "--client-id", "client-a")
        settings = launcher.settings()

        statuses = [
            requests.get(
                settings["IDENTITY_ENDPOINT"],
                params={"api-version": "2019-08-01", "resource": "r", "client_id": client_id},
                headers={"X-IDENTITY-HEADER": settings["IDENTITY_HEADER"]},
                timeout=5,
            ).status_code
            for client_id in ("client-a", "client-b")
        ]

        assert statuses == [200, 400]
        assert launcher.stop()[0] == 0

    def test_runs_without_pytest(self):
        """The launcher is a development tool: it must not need the test dependencies."""
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, emulators.__main__; print('pytest' in sys.modules)",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )

        assert result.stdout.strip() == "False"

    def test_port_in_use_exits_1_with_a_message_and_no_traceback(self, launch):
        """A taken port is reported in one line, not a stack trace."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            launcher = launch("--no-azurite", *_emulator_ports(), "--arm-port", str(port))

            code, stderr = launcher.wait()

        assert code == 1
        assert f"cannot listen on 127.0.0.1:{port}" in stderr
        assert "Traceback" not in stderr


class TestEmulatorStack:
    def test_token_from_the_identity_emulator_publishes_to_the_event_grid_emulator(
        self, monkeypatch
    ):
        """The stack's settings wire azure-identity to a signer the Event Grid emulator trusts."""
        with EmulatorStack() as stack:
            settings = stack.settings()
            monkeypatch.setenv("IDENTITY_ENDPOINT", settings["IDENTITY_ENDPOINT"])
            monkeypatch.setenv("IDENTITY_HEADER", settings["IDENTITY_HEADER"])
            token = ManagedIdentityCredential().get_token("https://eventgrid.azure.net/.default")

            response = requests.post(
                settings["COMPLETION_TOPIC__topicEndpointUri"],
                json=[EVENT],
                headers={"Authorization": f"Bearer {token.token}"},
                timeout=5,
            )
            keyed = requests.post(
                settings["COMPLETION_TOPIC__topicEndpointUri"],
                json=[EVENT],
                headers={"aeg-sas-key": stack.eventgrid.topic_key},
                timeout=5,
            )

            assert response.status_code == 200
            assert keyed.status_code == 401, "the stack's topic has local auth disabled"
            assert settings["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
            assert settings["ARM_ENDPOINT"] == stack.arm.url

    def test_failed_start_stops_what_had_started(self):
        """When one port is taken, the emulators already started are stopped again."""
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            started_first = [free_port(), free_port()]
            stack = EmulatorStack(
                identity_port=started_first[0],
                arm_port=started_first[1],
                eventgrid_port=taken.getsockname()[1],
            )

            with pytest.raises(OSError, match="eventgrid emulator cannot listen"):
                stack.start()

        assert [port for port in started_first if port_accepts("127.0.0.1", port)] == []

    def test_failed_start_inside_with_removes_the_temporary_azurite_folder(self):
        """`with` never calls stop() when entering fails, so start() itself cleans up."""
        skip_without_azurite()
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            stack = EmulatorStack(azurite=True, eventgrid_port=taken.getsockname()[1])
            assert stack.azurite is not None
            location = stack.azurite.location

            with pytest.raises(OSError, match="eventgrid emulator cannot listen"), stack:
                pass

        assert not location.exists()
        assert not any(port_accepts("127.0.0.1", port) for port in stack.azurite.ports)

    def test_stop_removes_the_temporary_azurite_folder(self):
        """Azurite started by the stack without a location leaves no data behind."""
        skip_without_azurite()
        stack = EmulatorStack(azurite=True).start()
        assert stack.azurite is not None
        location = stack.azurite.location

        stack.stop()

        assert not location.exists()
        assert not any(port_accepts("127.0.0.1", port) for port in stack.azurite.ports)


class TestSettingsFile:
    def test_merge_keeps_other_values_and_top_level_keys(self):
        """Only the emulator settings change; other Values and keys survive."""
        document = {"IsEncrypted": False, "Values": {"A": "1", "ARM_ENDPOINT": "old"}, "Host": {}}

        merged = merged_settings(document, {"ARM_ENDPOINT": "new"})

        assert merged == {
            "IsEncrypted": False,
            "Values": {"A": "1", "ARM_ENDPOINT": "new"},
            "Host": {},
        }

    def test_missing_file_is_created_from_the_sample(self, tmp_path):
        """A new settings file is the sample with the emulator values set in `Values`."""
        path = tmp_path / "local.settings.json"
        sample = json.loads(SAMPLE_SETTINGS.read_text())

        write_settings(path, {"ARM_ENDPOINT": "http://127.0.0.1:1"})

        document = json.loads(path.read_text())
        assert document == {
            **sample,
            "Values": {**sample["Values"], "ARM_ENDPOINT": "http://127.0.0.1:1"},
        }

    def test_settings_file_is_replaced_never_rewritten_in_place(self, tmp_path):
        """A reader that opened the file before the write still reads the whole old document,
        so one polling it (scripts/run_local.py) never sees half of the new one."""
        path = tmp_path / "local.settings.json"
        old = json.dumps({"Values": {"ARM_ENDPOINT": "old"}})
        path.write_text(old)
        path.chmod(0o640)

        with path.open() as reader:
            write_settings(path, {"ARM_ENDPOINT": "new"})
            assert reader.read() == old

        assert json.loads(path.read_text())["Values"] == {"ARM_ENDPOINT": "new"}
        assert path.stat().st_mode & 0o777 == 0o640
        assert [p.name for p in tmp_path.iterdir()] == [path.name]

    @pytest.mark.parametrize(
        "content",
        [
            pytest.param("{not json", id="not-json"),
            pytest.param("[]", id="array"),
            pytest.param('{"Values": []}', id="values-not-object"),
        ],
    )
    def test_unreadable_settings_file_is_a_clear_error(self, tmp_path, content):
        """A broken settings file raises SettingsFileError instead of being overwritten."""
        path: Path = tmp_path / "local.settings.json"
        path.write_text(content)

        with pytest.raises(SettingsFileError):
            write_settings(path, {"ARM_ENDPOINT": "x"})
        assert path.read_text() == content
