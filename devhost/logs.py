"""Log setup for `python -m devhost`, and the one line written per invocation."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from aiohttp.http_exceptions import BadHttpMessage

INVOCATIONS = logging.getLogger("devhost.invocations")

_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def configure_logging(*, verbose: bool, stream: TextIO = sys.stderr) -> None:
    """Send host and app logs (the root logger) to `stream`; DEBUG when verbose."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(_FORMAT, _DATE_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # WARNING even with --verbose: the Azure SDKs log every storage poll as a multi-line INFO
    # record, which would drown the invocation lines.
    logging.getLogger("azure").setLevel(logging.WARNING)
    # The same for the app's own Azure SDK records, forwarded from the worker by category.
    logging.getLogger("devhost.worker.log.azure").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.server").addFilter(one_line_bad_requests)


def one_line_bad_requests(record: logging.LogRecord) -> bool:
    """Write a request aiohttp could not parse (an 8 KB+ URL, a bad header) as one WARNING line.

    aiohttp logs these with a traceback, but they are the caller's fault, answered 400, and a
    client repeating one would fill the log. Kestrel, in front of the Functions host, logs them at
    Debug (devhost/README.md, Differences from Azure).
    """
    error = record.exc_info[1] if record.exc_info else None
    if isinstance(error, BadHttpMessage):
        record.msg = f"{record.getMessage()}: {type(error).__name__}: {error.message}"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
    return True


def log_invocation(
    function_name: str, trigger_type: str, duration_ms: float, error: BaseException | None
) -> None:
    """One human-readable line: function, trigger, outcome, duration and any failure."""
    if error is None:
        INVOCATIONS.info("%s (%s) succeeded in %.0f ms", function_name, trigger_type, duration_ms)
    else:
        # First line only: an orchestrator's failure carries its whole state JSON after it.
        message = next(iter(str(error).splitlines()), "")
        INVOCATIONS.error(
            "%s (%s) failed in %.0f ms: %s: %s",
            function_name,
            trigger_type,
            duration_ms,
            type(error).__name__,
            message,
        )


@contextmanager
def logged_invocation(function_name: str, trigger_type: str) -> Iterator[None]:
    """Time the enclosed invocation and write its log line, whether it succeeds or raises."""
    started = time.perf_counter()
    try:
        yield
    except BaseException as err:
        log_invocation(function_name, trigger_type, _elapsed_ms(started), err)
        INVOCATIONS.debug("%s traceback", function_name, exc_info=err)
        raise
    log_invocation(function_name, trigger_type, _elapsed_ms(started), None)


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
