"""The progress line: rewritten in place on a terminal, one line per change elsewhere."""

from __future__ import annotations

import io

from tools.console import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_line_is_printed_only_when_the_key_changes():
    stream = io.StringIO()
    progress = Progress(stream)

    progress.show("Running, 1 poll [1 s]", key=("Running", 1))
    progress.show("Running, 1 poll [2 s]", key=("Running", 1))
    progress.show("Running, 2 polls [3 s]", key=("Running", 2))
    progress.done()

    assert stream.getvalue() == "Running, 1 poll [1 s]\nRunning, 2 polls [3 s]\n"


def test_on_a_terminal_one_line_is_redrawn_and_ended_once():
    stream = _Terminal()
    progress = Progress(stream)

    progress.show("first", key=1)
    progress.show("second", key=1)
    progress.done()
    progress.done()

    assert stream.getvalue() == "\r\x1b[Kfirst\r\x1b[Ksecond\n"
