"""`python -m tools.submit --follow` against the real local stack, by each intake path."""

from __future__ import annotations

import uuid

import pytest

from tests.tools.conftest import LocalApp, envelope_file

pytestmark = pytest.mark.e2e

PATHS = ("http", "queue", "eventgrid")


@pytest.mark.parametrize("via", PATHS)
def test_follow_ends_succeeded_with_one_completion_event(local_app: LocalApp, tmp_path, via):
    """Each path provisions the interaction type; the tool shows the one completion event."""
    name = f"Submit{via.capitalize()}{uuid.uuid4().hex[:8]}"

    result = local_app.submit(str(envelope_file(tmp_path, name)), "--via", via, "--follow")

    assert result.returncode == 0, result.stdout + result.stderr
    [event] = local_app.completion_events(f"hubs/sdkTestHub/interactions/{name}")
    assert event["eventType"] == "CustomerInsights.InteractionType.ProvisioningSucceeded"
    assert f"Succeeded: hubs/sdkTestHub/interactions/{name}" in result.stdout
    assert event["data"]["operationId"] in result.stdout
    assert "Completion event:" in result.stdout


def test_resubmitting_a_provisioned_definition_reports_the_finished_operation(
    local_app: LocalApp, tmp_path
):
    """An identical definition sent again is a new request: it converges without a write,
    and the tool reports change none with its own completion event."""
    name = f"SubmitAgain{uuid.uuid4().hex[:8]}"
    request_file = str(envelope_file(tmp_path, name))
    first = local_app.submit(request_file, "--via", "http", "--follow")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "change created" in first.stdout

    again = local_app.submit(request_file, "--via", "queue", "--follow", "--timeout", "30")

    assert again.returncode == 0, again.stdout + again.stderr
    assert "change none" in again.stdout
    events = local_app.completion_events(f"hubs/sdkTestHub/interactions/{name}")
    assert [e["data"]["change"] for e in events] == ["created", "none"]

    repeat = local_app.submit(
        request_file, "--via", "http", "--follow", "--request-id", "again-1", "--timeout", "30"
    )
    assert repeat.returncode == 0, repeat.stdout + repeat.stderr
    repeat = local_app.submit(
        request_file, "--via", "http", "--follow", "--request-id", "again-1", "--timeout", "30"
    )
    assert "already ended" in repeat.stdout


def test_without_follow_the_tool_returns_once_the_request_is_sent(local_app: LocalApp, tmp_path):
    """Without --follow the queue path only enqueues, and says where to look."""
    name = f"SubmitNoFollow{uuid.uuid4().hex[:8]}"

    result = local_app.submit(str(envelope_file(tmp_path, name)), "--via", "queue")

    assert result.returncode == 0, result.stderr
    assert "Queued message" in result.stdout
    assert f"{local_app.url}/api/operations/ci-" in result.stdout
