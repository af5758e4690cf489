"""The submit tool checks the request file, the settings and the command line before sending."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulators.testing import free_port
from tests.devhost.support import REPO_ROOT
from tests.examples import EXAMPLE_FILE, doc_example
from tools.console import EXIT_FAILED, EXIT_USAGE
from tools.submit import main

SAMPLE_SETTINGS = REPO_ROOT / "local.settings.sample.json"


@pytest.fixture(autouse=True)
def _no_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUNCTION_KEY", raising=False)


@pytest.fixture
def nowhere() -> str:
    """An app URL where nothing listens: anything sent would fail with exit 1, not 2."""
    return f"http://127.0.0.1:{free_port()}"


def _write(folder: Path, document: object, name: str = "request.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document))
    return path


def _settings(folder: Path, **values: str) -> Path:
    return _write(folder, {"IsEncrypted": False, "Values": values}, "settings.json")


def test_invalid_envelope_exits_2_listing_every_problem(tmp_path, capsys, nowhere):
    """Schema problems are all listed by JSON path, and nothing is sent."""
    envelope = doc_example()
    envelope["target"]["hub"] = "1-bad"
    del envelope["target"]["interactionName"]
    envelope["definition"]["fields"][0]["fieldType"] = "Edm.Text"
    request = _write(tmp_path, envelope)

    code = main([str(request), "--settings", str(SAMPLE_SETTINGS), "--url", nowhere])

    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "is not a valid request (3 problems); nothing was sent" in err
    assert "$.target.hub: must be 2 to 64 letters or digits" in err
    assert "$.target.interactionName: is required" in err
    assert "$.definition.fields[0].fieldType: must be one of" in err


def test_semantic_problems_are_reported_too(tmp_path, capsys, nowhere):
    """Cross-field rules run as in the app: an id property must name a field."""
    envelope = doc_example()
    envelope["definition"]["idPropertyNames"] = ["testInteractionType6358"]

    code = main(
        [str(_write(tmp_path, envelope)), "--settings", str(SAMPLE_SETTINGS), "--url", nowhere]
    )

    assert code == EXIT_USAGE
    assert "did you mean 'TestInteractionType6358'?" in capsys.readouterr().err


def test_missing_defaults_name_the_setting(tmp_path, capsys, nowhere):
    """Without DEFAULT_SUBSCRIPTION_ID the target must name its subscription, and it says so."""
    settings = _settings(tmp_path, DEFAULT_RESOURCE_GROUP="rg")

    code = main([str(EXAMPLE_FILE), "--settings", str(settings), "--url", nowhere])

    assert code == EXIT_USAGE
    assert "set the DEFAULT_SUBSCRIPTION_ID setting" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("{", "is not valid JSON", id="broken-json"),
        pytest.param("", "is empty", id="empty"),
        pytest.param("[]", "$: must be a JSON object", id="array"),
    ],
)
def test_unreadable_file_exits_2(tmp_path, capsys, nowhere, content, message):
    request = tmp_path / "request.json"
    request.write_text(content)

    code = main([str(request), "--settings", str(SAMPLE_SETTINGS), "--url", nowhere])

    assert code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_missing_request_file_exits_2(tmp_path, capsys):
    code = main([str(tmp_path / "absent.json"), "--settings", str(SAMPLE_SETTINGS)])

    assert code == EXIT_USAGE
    assert "cannot read" in capsys.readouterr().err


def test_named_settings_file_must_exist(tmp_path, capsys):
    code = main([str(EXAMPLE_FILE), "--settings", str(tmp_path / "absent.json")])

    assert code == EXIT_USAGE
    assert "cannot use the settings file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("via", "names"),
    [
        pytest.param("queue", "AzureWebJobsStorage", id="queue"),
        pytest.param("eventgrid", "COMPLETION_TOPIC__topicEndpointUri", id="eventgrid"),
    ],
)
def test_path_without_its_connection_settings_exits_2(tmp_path, capsys, via, names):
    settings = _settings(
        tmp_path,
        DEFAULT_SUBSCRIPTION_ID="00000000-0000-0000-0000-000000000001",
        DEFAULT_RESOURCE_GROUP="rg",
    )

    code = main([str(EXAMPLE_FILE), "--via", via, "--settings", str(settings)])

    assert code == EXIT_USAGE
    assert names in capsys.readouterr().err


def test_valid_request_to_an_absent_app_exits_1_saying_so(capsys, nowhere):
    """A valid file gets as far as sending; the unreachable app is a plain message."""
    code = main([str(EXAMPLE_FILE), "--settings", str(SAMPLE_SETTINGS), "--url", nowhere])

    assert code == EXIT_FAILED
    assert f"cannot reach the function app at {nowhere}" in capsys.readouterr().err


def test_command_line_run_shows_problems_without_a_traceback(tmp_path):
    """As a process: exit code 2, the problems on stderr, no Python traceback."""
    request = _write(tmp_path, {"target": {}, "definition": {}})

    result = subprocess.run(
        [sys.executable, "-m", "tools.submit", str(request), "--settings", str(SAMPLE_SETTINGS)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == EXIT_USAGE
    assert "$.target.hub: is required" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
