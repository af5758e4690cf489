"""The invocation log line."""

from __future__ import annotations

import logging

import pytest

from devhost.logs import logged_invocation


class TestInvocationLog:
    def test_success_is_one_info_line(self, caplog: pytest.LogCaptureFixture) -> None:
        """A successful invocation logs function, trigger, outcome and duration."""
        with (
            caplog.at_level(logging.INFO, logger="devhost.invocations"),
            logged_invocation("hello", "httpTrigger"),
        ):
            pass
        (record,) = caplog.records
        assert record.levelno == logging.INFO
        assert record.getMessage().startswith("hello (httpTrigger) succeeded in ")
        assert record.getMessage().endswith(" ms")

    def test_failure_logs_the_first_line_of_the_message(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A failure logs an ERROR line with the exception type and first message line."""
        with (
            caplog.at_level(logging.INFO, logger="devhost.invocations"),
            pytest.raises(RuntimeError),
            logged_invocation("orch", "orchestrationTrigger"),
        ):
            raise RuntimeError("boom\n\n$OutOfProcData$:{...}")
        (record,) = caplog.records
        assert record.levelno == logging.ERROR
        message = record.getMessage()
        assert message.startswith("orch (orchestrationTrigger) failed in ")
        assert message.endswith(" ms: RuntimeError: boom")

    def test_failure_traceback_is_logged_at_debug(self, caplog: pytest.LogCaptureFixture) -> None:
        """With DEBUG on, the failure's traceback follows the line."""
        with (
            caplog.at_level(logging.DEBUG, logger="devhost.invocations"),
            pytest.raises(ValueError, match="bad"),
            logged_invocation("f", "queueTrigger"),
        ):
            raise ValueError("bad")
        assert [r.levelno for r in caplog.records] == [logging.ERROR, logging.DEBUG]
        assert caplog.records[1].exc_info is not None
