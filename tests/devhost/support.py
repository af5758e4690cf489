"""Test helpers for the local host: an Event Grid topic sink and the host as a process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import requests

from devhost.bindings import TriggerInput, queue_trigger
from devhost.indexing import FunctionIndex, index_metadata
from devhost.keys import KEY_HEADER
from devhost.rpc.worker import LanguageWorker

# Re-exported: the host tests and the e2e tests take every helper from this module.
from emulators.testing import free_port as free_port
from emulators.testing import wait_until as wait_until

T = TypeVar("T")

SAMPLE_APP = Path(__file__).parent / "apps" / "sample"
TOPIC_KEY = "sample-topic-key"


def queue_message(
    message_id: str, body: bytes, *, dequeue_count: int = 1, pop_receipt: str = "pr"
) -> TriggerInput:
    """A queue trigger as the listener builds it, for tests that set only the id, body and count.

    The storage times are left unset: these tests deliver the message straight to the worker.
    """
    return queue_trigger(
        message_id=message_id,
        body=body,
        dequeue_count=dequeue_count,
        pop_receipt=pop_receipt,
        inserted_on=None,
        expires_on=None,
        next_visible_on=None,
    )


def read_records(record_dir: Path, kind: str) -> list[dict[str, Any]]:
    """The JSON lines the sample app recorded for `kind` (jobs, events)."""
    path = record_dir / f"{kind}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


@dataclass(frozen=True)
class ReceivedPost:
    """One request the sink received."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class EventGridSink:
    """A custom-topic stand-in: records every POST, answers 200 or `fail_status`."""

    def __init__(self) -> None:
        self.posts: list[ReceivedPost] = []
        self.fail_status: int | None = None
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                parts = urlsplit(self.path)
                sink.posts.append(
                    ReceivedPost(
                        path=parts.path,
                        query=parse_qs(parts.query),
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                status = sink.fail_status or 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The topic endpoint URL to configure."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/events"

    def events(self) -> list[dict[str, Any]]:
        """Every event received, in order, from all posted arrays."""
        return [event for post in self.posts for event in post.body]

    def stop(self) -> None:
        """Shut the server down."""
        self._server.shutdown()
        self._server.server_close()


REPO_ROOT = Path(__file__).resolve().parents[2]
# Importing the app and the SDKs dominates startup; a loaded machine gets headroom.
PROCESS_START_TIMEOUT = 30.0


class DevhostProcess:
    """`python -m devhost` as a child process in its own process group, with its log kept.

    `master_key` is the master key the host was given, which its status route needs; None
    for a host without keys.
    """

    def __init__(
        self, args: list[str], *, port: int, log_path: Path, master_key: str | None
    ) -> None:
        self.args = args
        self.port = port
        self.log_path = log_path
        self.master_key = master_key
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The host's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The host's process id while it runs."""
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        """Spawn the host and wait until /admin/host/status answers; fail fast with the log."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "devhost", "--port", str(self.port), *self.args],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(self._ready, timeout=PROCESS_START_TIMEOUT, what=f"devhost\n{self.log()}")

    def _ready(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise AssertionError(f"devhost exited with {self._process.returncode}:\n{self.log()}")
        try:
            headers = {KEY_HEADER: self.master_key} if self.master_key else {}
            return requests.get(f"{self.url}/admin/host/status", headers=headers, timeout=1).ok
        except requests.ConnectionError:
            return False

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs."""
        if self._process is not None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
            self._process = None

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit code, or None if it was not running."""
        process, self._process = self._process, None
        if process is None:
            return None
        os.killpg(process.pid, signal.SIGTERM)
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait()

    def log(self) -> str:
        """Everything the host has written so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def index_in_worker(app_dir: Path) -> FunctionIndex:
    """Start Microsoft's worker on `app_dir`, take the index it reports, stop it.

    WorkerError says why the worker refused the app; IndexingError what the local host cannot
    serve.
    """

    async def index() -> FunctionIndex:
        worker = LanguageWorker(app_dir=app_dir, environment=dict(os.environ))
        try:
            await worker.start()
            return index_metadata(worker.functions)
        finally:
            await worker.stop()

    return asyncio.run(index())
