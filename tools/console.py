"""What the tools print: errors with their exit codes, problem lists and a progress line."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3


class ToolError(Exception):
    """Something went wrong that the user can act on; the message says what, without a traceback."""

    exit_code = EXIT_FAILED


class UsageError(ToolError):
    """A mistake in the command line, a file or a key."""

    exit_code = EXIT_USAGE


def problem_lines(problems: Iterable[tuple[str, str]]) -> str:
    """`  path: message` lines, one per problem."""
    return "\n".join(f"  {path}: {message}" for path, message in problems)


class Progress:
    """One line rewritten in place on a terminal; elsewhere, one line each time it changes.

    `key` decides what counts as a change off a terminal, so that a countdown does not print
    a line per poll into a log.
    """

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._last_key: object = None
        self._open = False

    def show(self, text: str, *, key: object) -> None:
        """Show `text` as the current state."""
        if self._tty:
            # \r and "erase line" redraw the same line; nothing is left behind when it shrinks.
            self._stream.write(f"\r\x1b[K{text}")
            self._open = True
        elif key != self._last_key:
            self._stream.write(f"{text}\n")
        self._last_key = key
        self._stream.flush()

    def done(self) -> None:
        """End the updating line, so that what follows starts on a line of its own."""
        if self._open:
            self._stream.write("\n")
            self._stream.flush()
            self._open = False
