"""The Azurite runner: a real Azurite process on free ports, driven with azure-storage-queue."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from emulators import azurite as azurite_module
from emulators.azurite import ACCOUNT_KEY, Azurite, AzuriteError, port_accepts
from emulators.testing import azurite_fixture, free_port, skip_without_azurite

azurite = azurite_fixture(scope="module")


def _runner(
    location: Path, *, blob_port: int = 0, queue_port: int = 0, table_port: int = 0
) -> Azurite:
    return Azurite(
        location=location,
        blob_port=blob_port or free_port(),
        queue_port=queue_port or free_port(),
        table_port=table_port or free_port(),
    )


class TestAzurite:
    def test_queue_round_trip_works_against_the_started_azurite(self, azurite):
        """A queue created through the connection string takes and returns a message."""
        queue = QueueClient.from_connection_string(azurite.connection_string, "round-trip")
        queue.create_queue()

        queue.send_message("hello")
        [message] = list(queue.receive_messages())

        assert message.content == "hello"
        assert all(port_accepts(azurite.host, port) for port in azurite.ports)

    def test_connection_string_names_the_actual_ports(self):
        """The explicit development connection string points at the chosen ports."""
        runner = Azurite(location=Path("unused"), blob_port=1, queue_port=2, table_port=3)

        parts = dict(part.split("=", 1) for part in runner.connection_string.rstrip(";").split(";"))

        assert parts["AccountName"] == "devstoreaccount1"
        assert parts["AccountKey"] == ACCOUNT_KEY
        assert parts["BlobEndpoint"] == "http://127.0.0.1:1/devstoreaccount1"
        assert parts["QueueEndpoint"] == "http://127.0.0.1:2/devstoreaccount1"
        assert parts["TableEndpoint"] == "http://127.0.0.1:3/devstoreaccount1"

    def test_stop_ends_the_process_group_and_frees_the_ports(self, tmp_path):
        """After stop() the ports refuse connections and Azurite's process is gone."""
        skip_without_azurite()
        runner = _runner(tmp_path)
        runner.start()
        pid = runner.pid
        assert pid is not None

        runner.stop()

        assert not runner.running
        assert not any(port_accepts(runner.host, port) for port in runner.ports)
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)
        assert (tmp_path / "__azurite_db_queue__.json").exists()

    def test_process_that_exits_during_startup_fails_fast_with_its_output(self, tmp_path):
        """Azurite's own error message is in the exception when it exits early."""
        skip_without_azurite()

        with pytest.raises(AzuriteError, match=r"exited with code 1[\s\S]*options\.port"):
            _runner(tmp_path, blob_port=70000).start()

    def test_port_already_in_use_is_refused_before_starting(self, tmp_path):
        """A port something else answers on is reported instead of a confusing Azurite error."""
        skip_without_azurite()
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]

            with pytest.raises(AzuriteError, match=f"port\\(s\\) {port} .* already in use"):
                _runner(tmp_path, queue_port=port).start()

    def test_missing_install_says_to_run_npm_ci(self, tmp_path, monkeypatch):
        """Without node_modules/.bin/azurite the error tells how to install it."""
        monkeypatch.setattr(azurite_module, "AZURITE_BIN", tmp_path / "no-azurite")

        with pytest.raises(AzuriteError, match="run `npm ci`"):
            _runner(tmp_path).start()
