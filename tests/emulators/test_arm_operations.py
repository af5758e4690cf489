"""The operation state machine, with time passed in."""

from __future__ import annotations

import pytest

from emulators.arm.operations import IN_PROGRESS, Operation, ResourceKey
from emulators.arm.scenarios import Scenario

KEY = ResourceKey.of("Sub", "Rg", "Hub", "Name")


def operation(**knobs: object) -> Operation:
    """An operation started at t=1000 under a scenario with these knobs."""
    scenario = Scenario.model_validate(knobs)
    return Operation(id="op", key=KEY, subscription="Sub", scenario=scenario, started_at=1000.0)


class TestOperation:
    def test_key_is_lower_cased(self) -> None:
        """Resource keys ignore the casing of names."""
        assert ResourceKey("sub", "rg", "hub", "name") == KEY

    @pytest.mark.parametrize(
        ("polls", "finishing_read"),
        [
            pytest.param(0, 1, id="zero"),
            pytest.param(1, 1, id="one"),
            pytest.param(3, 3, id="three"),
        ],
    )
    def test_finishes_on_the_numbered_read(self, polls: int, finishing_read: int) -> None:
        """observe() is True exactly on the read that finishes the operation."""
        op = operation(pollsUntilDone=polls, finalState="Failed")
        finished = [op.observe(1000.0) for _ in range(finishing_read + 1)]
        assert finished == [False] * (finishing_read - 1) + [True, False]
        assert op.status == "Failed"

    def test_runs_until_its_duration_has_passed(self) -> None:
        """With durationSeconds the clock decides, not the number of reads."""
        op = operation(durationSeconds=30, pollsUntilDone=1)
        assert not op.observe(1029.9)
        assert op.status == IN_PROGRESS
        assert op.observe(1030.0)
        assert (op.status, op.finished_at) == ("Succeeded", 1030.0)

    def test_stays_done_once_finished(self) -> None:
        """Reads after the end change nothing."""
        op = operation(pollsUntilDone=1)
        op.observe(1001.0)
        op.observe(2000.0)
        assert (op.reads, op.finished_at) == (1, 1001.0)
