"""Run a Host on its own event loop in a background thread, for synchronous test code.

Everything that talks to the host's loop-bound clients (the durable SDK client above all) goes
through `call`, so one loop serves the host and the test (durable-protocol.md pitfall 10).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

from devhost.host import Host

T = TypeVar("T")

# Startup imports the app and binds sockets; a loaded CI machine gets headroom.
START_TIMEOUT_SECONDS = 60.0
CALL_TIMEOUT_SECONDS = 60.0


class HostThread:
    """Starts `host` on a private loop at construction; `stop()` shuts both down."""

    def __init__(self, host: Host, *, start_timeout: float = START_TIMEOUT_SECONDS) -> None:
        self.host = host
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="devhost", daemon=True)
        self._thread.start()
        try:
            self.call(host.start(), timeout=start_timeout)
        except BaseException:
            self._close_loop()
            raise

    def call(self, work: Coroutine[Any, Any, T], *, timeout: float = CALL_TIMEOUT_SECONDS) -> T:
        """Run `work` on the host's loop and return its result (or raise its exception)."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def stop(self) -> None:
        """Stop the host, then the loop and its thread."""
        if not self._thread.is_alive():
            return
        try:
            self.call(self.host.stop())
        finally:
            self._close_loop()

    def _close_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
