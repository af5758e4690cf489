"""Emulator state in the state directory: operations in flight outlive an emulator restart."""

from __future__ import annotations

from pathlib import Path

import requests

from emulators.stack import EmulatorStack, free_port
from tests.emulators.conftest import ArmTarget

ARM_AUDIENCE = "https://management.azure.com/"


def _arm(stack: EmulatorStack, token: str) -> ArmTarget:
    return ArmTarget(base=stack.arm.url, token=token, signer=stack.signer)


def test_operation_started_before_a_restart_finishes_after_it(tmp_path: Path) -> None:
    """The operation URL and the token handed out before the restart still work after it."""
    port = free_port()
    with EmulatorStack(arm_port=port, state_dir=tmp_path) as before:
        token = before.signer.issue(ARM_AUDIENCE).token
        arm = _arm(before, token)
        arm.scenario(mode="async-operation", pollsUntilDone=3)
        status_url = arm.put().headers["Azure-AsyncOperation"]
        assert arm.get(status_url).json()["status"] == "InProgress"

    with EmulatorStack(arm_port=port, state_dir=tmp_path) as after:
        arm = _arm(after, token)
        second = arm.get(status_url)
        assert second.status_code == 200, second.text
        assert second.json()["status"] == "InProgress"
        assert arm.get(status_url).json()["status"] == "Succeeded"
        resource = arm.get(arm.interaction_url()).json()
        assert resource["properties"]["provisioningState"] == "Succeeded"


def test_reset_clears_the_kept_state(tmp_path: Path) -> None:
    """`POST /_emulator/reset` forgets the kept resources too, so a later start has none."""
    port = free_port()
    with EmulatorStack(arm_port=port, state_dir=tmp_path) as before:
        arm = _arm(before, before.signer.issue(ARM_AUDIENCE).token)
        arm.scenario(mode="sync")
        assert arm.put().status_code in (200, 201)
        requests.post(f"{before.arm.url}/_emulator/reset", timeout=5).raise_for_status()

    with EmulatorStack(arm_port=port, state_dir=tmp_path) as after:
        arm = _arm(after, after.signer.issue(ARM_AUDIENCE).token)
        assert arm.get(arm.interaction_url()).status_code == 404


def test_restart_arm_serves_the_kept_operations_on_the_same_port(tmp_path: Path) -> None:
    """A picked port is kept across `restart_arm()`; the stopped emulator keeps its journal."""
    with EmulatorStack(state_dir=tmp_path) as stack:
        before_url = stack.arm.url
        arm = _arm(stack, stack.signer.issue(ARM_AUDIENCE).token)
        arm.scenario(mode="async-operation", pollsUntilDone=2)
        status_url = arm.put().headers["Azure-AsyncOperation"]

        stopped = stack.restart_arm(downtime=0.1)

        assert stack.arm.url == before_url
        assert [e["method"] for e in stopped.journal.entries()] == ["PUT"]
        assert stack.arm.journal.entries() == []
        assert arm.get(status_url).json()["status"] == "InProgress"
        assert arm.get(status_url).json()["status"] == "Succeeded"
