"""The submit tool facing an app that answers something unexpected: a message and exit 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.common import EmulatorServer, Request, Response, json_response
from tests.examples import EXAMPLE_FILE
from tools.console import EXIT_FAILED
from tools.submit import main

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
TARGET = {
    "subscriptionId": SUBSCRIPTION,
    "resourceGroup": "rg",
    "hub": "sdkTestHub",
    "interactionName": "TestProfileType396",
}
VIEW = {
    "operationId": "ci-0123",
    "status": "Accepted",
    "correlationId": "corr-1",
    "target": TARGET,
    "resourceId": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers"
    "/Microsoft.CustomerInsights/hubs/sdkTestHub/interactions/TestProfileType396",
    "submittedAt": "2026-01-01T00:00:00Z",
}


class ScriptedApp:
    """A loopback stand-in for the function app answering POST and GET as told."""

    def __init__(self) -> None:
        self.submitted: Response = json_response(202, VIEW)
        self.status: Response = json_response(200, VIEW)
        self._server = EmulatorServer(self._answer, reset=lambda: None, name="app")

    def _answer(self, request: Request) -> Response:
        return self.submitted if request.method == "POST" else self.status

    def __enter__(self) -> str:
        return self._server.start()

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop()


@pytest.fixture(name="app")
def _app() -> Iterator[tuple[ScriptedApp, str]]:
    scripted = ScriptedApp()
    with scripted as url:
        yield scripted, url


@pytest.fixture(name="settings")
def _settings(tmp_path: Path) -> Path:
    """Defaults for the target, and no topic: nothing but the scripted app is reached."""
    path = tmp_path / "settings.json"
    values = {"DEFAULT_SUBSCRIPTION_ID": SUBSCRIPTION, "DEFAULT_RESOURCE_GROUP": "rg"}
    path.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    return path


def _text(status: int, text: str) -> Response:
    return Response(status, text.encode(), {"Content-Type": "text/html"})


def _without(name: str) -> dict[str, Any]:
    return {key: value for key, value in VIEW.items() if key != name}


@pytest.mark.parametrize(
    ("submitted", "status", "expected"),
    [
        pytest.param(_text(202, "<html>gateway</html>"), None, "Invalid JSON", id="post-not-json"),
        pytest.param(
            json_response(202, _without("operationId")), None, "operationId", id="no-operation-id"
        ),
        pytest.param(
            json_response(202, _without("correlationId")),
            None,
            "no correlationId",
            id="no-correlation-id",
        ),
        pytest.param(None, _text(200, "<html>proxy</html>"), "Invalid JSON", id="get-not-json"),
        pytest.param(
            None, json_response(200, {**VIEW, "status": "Exploded"}), "status", id="unknown-status"
        ),
    ],
)
def test_unexpected_answer_exits_1_with_a_message_not_a_traceback(
    app: tuple[ScriptedApp, str],
    settings: Path,
    capsys: pytest.CaptureFixture[str],
    submitted: Response | None,
    status: Response | None,
    expected: str,
) -> None:
    scripted, url = app
    scripted.submitted = submitted or scripted.submitted
    scripted.status = status or scripted.status

    request = str(EXAMPLE_FILE)
    code = main([request, "--follow", "--timeout", "10", "--url", url, "--settings", str(settings)])

    assert code == EXIT_FAILED
    error = capsys.readouterr().err
    assert error.startswith("error: the function app answered")
    assert expected in error
