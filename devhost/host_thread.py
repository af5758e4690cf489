"""Run a Host on its own event loop in a background thread, for synchronous test code.

Everything that talks to the host's loop-bound parts (its gRPC server, its clients) goes
through `call`, so one loop serves the host and the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self

from devhost.host import Host

# Startup starts the worker and binds sockets; a loaded CI machine gets headroom.
START_TIMEOUT_SECONDS = 60.0
CALL_TIMEOUT_SECONDS = 60.0


class LoopThread:
    """An event loop running in a daemon thread, which takes coroutines from any thread or loop."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """Whether the loop still runs (False after `close()`)."""
        return self._thread.is_alive()

    def call[T](self, work: Coroutine[Any, Any, T], *, timeout: float = CALL_TIMEOUT_SECONDS) -> T:
        """Run `work` on the loop, blocking this thread until it is done."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    async def run[T](self, work: Coroutine[Any, Any, T]) -> T:
        """Await `work` on the loop from another loop; cancelling one cancels both."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    def close(self) -> None:
        """Stop the loop and its thread."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


class HostThread:
    """Starts `host` on a private loop at construction; `stop()` shuts both down."""

    def __init__(self, host: Host, *, start_timeout: float = START_TIMEOUT_SECONDS) -> None:
        self.host = host
        self._loop = LoopThread("devhost")
        try:
            self.call(host.start(), timeout=start_timeout)
        except BaseException:
            self._loop.close()
            raise

    def call[T](self, work: Coroutine[Any, Any, T], *, timeout: float = CALL_TIMEOUT_SECONDS) -> T:
        """Run `work` on the host's loop and return its result (or raise its exception)."""
        return self._loop.call(work, timeout=timeout)

    def stop(self) -> None:
        """Stop the host, then the loop and its thread."""
        if not self._loop.running:
            return
        try:
            self.call(self.host.stop())
        finally:
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
