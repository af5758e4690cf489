"""Python logging records to RpcLog messages, as Microsoft's proxy worker sends them.

While the stream is open every record that reaches the root logger goes to the host, the app's
as well as the worker's and the library's (azure-functions-python-worker
workers/proxy_worker/dispatcher.py `AsyncLoggingHandler`, `Dispatcher.on_logging`,
`dispatch_forever`). Before the stream opens and after it closes, records go to stderr with the
console prefix the host recognises (workers/proxy_worker/logging.py `CONSOLE_LOG_PREFIX`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from devhost.rpc import function_rpc_pb2 as pb
from devhost.worker.library import LIBRARY_MODULE

CONSOLE_PREFIX = "LanguageWorkerConsoleLog"
# Loggers whose records are the worker's own (RpcLog.System); everything else, the root logger
# the app logs to included, is User. Microsoft's list is its proxy ("proxy_worker"), the SDK
# ("azure.functions") and the library ("azure_functions_runtime"), matched as name prefixes
# (workers/proxy_worker/logging.py `is_system_log_category`); this package takes the proxy's place.
SYSTEM_PREFIXES = ("devhost.worker", "azure.functions", LIBRARY_MODULE)
DEBUG_SETTING = "PYTHON_ENABLE_DEBUG_LOGGING"

# The invocation a task is running, set in each invocation's task and inherited by the tasks and
# callbacks it starts: Microsoft's proxy keeps it as an attribute of its own Task class
# (dispatcher.py `ContextEnabledTask`), a context variable does the same.
current_invocation: ContextVar[str | None] = ContextVar("devhost_invocation_id", default=None)


def rpc_level(levelno: int) -> int:
    """The RpcLog level for a Python level: the nearest one at or below it."""
    if levelno >= logging.CRITICAL:
        return pb.RpcLog.Critical
    if levelno >= logging.ERROR:
        return pb.RpcLog.Error
    if levelno >= logging.WARNING:
        return pb.RpcLog.Warning
    if levelno >= logging.INFO:
        return pb.RpcLog.Information
    if levelno >= logging.DEBUG:
        return pb.RpcLog.Debug
    # Level "None", spelled through Value(): the name is a Python keyword. int() because in
    # protoc's stub the top-level enum RpcDataType's `int` value shadows the builtin.
    return int(pb.RpcLog.Level.Value("None"))


def log_category(logger_name: str) -> int:
    """System for the worker's, the SDK's and the library's loggers, User otherwise."""
    return pb.RpcLog.System if logger_name.startswith(SYSTEM_PREFIXES) else pb.RpcLog.User


def invocation_id(*, on_loop_thread: bool) -> str | None:
    """The invocation the current code runs for, if any.

    Looked for in the invoking task's context, then in the library's context variable (which it
    sets on the pool thread running a synchronous function, utils/executor.py `run_sync_func`),
    then, off the event loop, in the library's thread-local that an app sets for threads of its
    own (`context.thread_local_storage.invocation_id`). On the loop thread that thread-local
    keeps the last invocation the library started, so it is not trusted there.
    """
    found = current_invocation.get()
    if found:
        return found
    library = sys.modules.get(LIBRARY_MODULE)
    variable = getattr(library, "invocation_id_cv", None)
    if isinstance(variable, ContextVar):
        value = variable.get()
        if isinstance(value, str) and value:
            return value
    if not on_loop_thread:
        context = sys.modules.get(f"{LIBRARY_MODULE}.bindings.context")
        local = getattr(context, "_invocation_id_local", None)
        value = getattr(local, "invocation_id", None)
        if isinstance(value, str) and value:
            return value
    return None


class RpcLogHandler(logging.Handler):
    """Sends each record to the host as an RpcLog, from whichever thread logs it."""

    def __init__(
        self,
        *,
        request_id: str,
        send: Callable[[pb.StreamingMessage], None],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__()
        # Microsoft's handler sets no formatter: the message, then any traceback.
        self.setFormatter(logging.Formatter())
        self._request_id = request_id
        self._send = send
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record for the stream (thread-safe)."""
        try:
            on_loop = threading.get_ident() == self._loop_thread
            # Built from a dict as Microsoft's on_logging does; the enum fields take numbers.
            fields: dict[str, Any] = {
                "level": rpc_level(record.levelno),
                "message": self.format(record),
                "category": record.name,
                "log_category": log_category(record.name),
            }
            found = invocation_id(on_loop_thread=on_loop)
            if found is not None:
                fields["invocation_id"] = found
            # Microsoft's worker sends every log with its own start request id.
            message = pb.StreamingMessage(request_id=self._request_id, rpc_log=pb.RpcLog(**fields))
            if on_loop:
                self._send(message)
            else:
                self._loop.call_soon_threadsafe(self._send, message)
        except RuntimeError as err:
            # The loop has closed under a thread still logging; logging about it through this
            # handler again would loop, so say it on stderr as Microsoft's handler does.
            sys.stderr.write(f"{CONSOLE_PREFIX} ERROR: {err}: {record.getMessage()}\n")
        except Exception:
            self.handleError(record)


def console_handler() -> logging.Handler:
    """Records before and after the stream: warnings and errors on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{CONSOLE_PREFIX} %(levelname)s: %(message)s"))
    handler.setLevel(logging.WARNING)
    return handler


def stream_log_level() -> int:
    """INFO, or DEBUG when the app setting asks for it (Microsoft's `dispatch_forever`)."""
    # True-like as the library's utils/app_setting_manager.py `is_true_like` reads settings.
    enabled = os.environ.get(DEBUG_SETTING, "").strip().lower() in {"1", "true", "t", "yes", "y"}
    return logging.DEBUG if enabled else logging.INFO


@contextlib.contextmanager
def forwarding_to_host(handler: RpcLogHandler, console: logging.Handler) -> Iterator[None]:
    """Route the root logger to the host instead of the console while the block runs."""
    root = logging.getLogger()
    root.removeHandler(console)
    root.addHandler(handler)
    root.setLevel(stream_log_level())
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.addHandler(console)
