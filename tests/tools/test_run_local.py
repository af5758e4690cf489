"""scripts/run_local.py, the `make run` launcher: stopping its children and reading settings."""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from emulators.stack import EmulatorStack
from tests.devhost.support import REPO_ROOT

RUN_LOCAL = REPO_ROOT / "scripts" / "run_local.py"

# Stands in for main(): two children, then a stop signal, and another one while the slower
# child (like `python -m emulators` stopping Azurite) is still stopping.
_DRIVER = """
import importlib.util, json, os, signal, sys, threading, time
from pathlib import Path

spec = importlib.util.spec_from_file_location("run_local", sys.argv[1])
run_local = sys.modules["run_local"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_local)
run_local.LOG_DIR = Path(sys.argv[2])
slow_stop = (
    "import signal, sys, time\\n"
    "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(1), sys.exit(0)))\\n"
    "print('ready', flush=True)\\n"
    "time.sleep(60)\\n"
)
children = [
    run_local.Child("plain", [sys.executable, "-c", "import time; time.sleep(60)"]),
    run_local.Child("slow", [sys.executable, "-c", slow_stop]),
]
run_local.stop_on_signals()
for child in children:
    child.start()
while "ready" not in children[1].tail():
    time.sleep(0.02)
try:
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        time.sleep(10)
    except run_local.Stop:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    finally:
        run_local.stop_children(children)
except run_local.Stop:
    print("a second stop signal escaped the cleanup")
print(json.dumps([child.exit_code() for child in children]))
"""


@pytest.fixture(name="run_local", scope="module")
def _run_local() -> ModuleType:
    """The script as a module (scripts/ is not a package; its dataclasses need it registered)."""
    spec = importlib.util.spec_from_file_location("run_local", RUN_LOCAL)
    assert spec is not None
    assert spec.loader is not None
    module = sys.modules["run_local"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_second_stop_signal_while_stopping_still_stops_every_child(tmp_path):
    """SIGHUP (terminal closed) stops like Ctrl-C, and a Ctrl-C during the stop is ignored
    instead of leaving the children not yet stopped running."""
    result = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(RUN_LOCAL), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "escaped" not in result.stdout
    exit_codes = json.loads(result.stdout.splitlines()[-1])
    assert None not in exit_codes


@pytest.mark.parametrize(
    "content",
    [
        pytest.param('{"Values": {"ARM_ENDPOINT": "http://127.0', id="half-written"),
        pytest.param('{"Values": {}}', id="values-missing"),
        pytest.param("", id="empty"),
    ],
)
def test_settings_being_written_are_not_ready_yet(
    run_local: ModuleType, tmp_path: Path, content: str
) -> None:
    """A settings file caught mid-write or without the emulator values means "look again"."""
    settings = tmp_path / "local.settings.json"
    settings.write_text(content)

    assert run_local.emulators_ready(settings, 0.0) is False


def test_settings_naming_running_emulators_are_ready(run_local: ModuleType, tmp_path: Path) -> None:
    """Once the file names emulators that answer, the wait is over."""
    settings = tmp_path / "local.settings.json"
    with EmulatorStack() as stack:
        settings.write_text(json.dumps({"Values": stack.settings()}))

        assert run_local.emulators_ready(settings, 0.0) is True


def test_key_settings_missing_from_an_older_file_are_added(
    run_local: ModuleType, tmp_path: Path
) -> None:
    """A local.settings.json from before the master and system keys gets the sample's; values
    already there, an empty one included, are kept."""
    settings = tmp_path / "local.settings.json"
    values = {"ARM_ENDPOINT": "http://x", "DEVHOST_FUNCTION_KEY": "mine", "DEVHOST_MASTER_KEY": ""}
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": values}))

    added = run_local.add_missing_keys(settings, REPO_ROOT / "local.settings.sample.json")

    assert added == ["DEVHOST_EVENTGRID_EXTENSION_KEY", "DEVHOST_DURABLETASK_EXTENSION_KEY"]
    assert json.loads(settings.read_text())["Values"] == {
        **values,
        "DEVHOST_EVENTGRID_EXTENSION_KEY": "local-eventgrid-key",
        "DEVHOST_DURABLETASK_EXTENSION_KEY": "local-durabletask-key",
    }
    assert run_local.add_missing_keys(settings, REPO_ROOT / "local.settings.sample.json") == []


def test_subscription_carries_the_eventgrid_extension_key(
    run_local: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The topic pushes to the webhook with `code=<eventgrid_extension key>`, not the function
    key; the printed usage names every key."""
    posted: list[dict[str, object]] = []

    def post(url: str, *, json: dict[str, object], timeout: float) -> SimpleNamespace:
        posted.append(json)
        return SimpleNamespace(status_code=201)

    monkeypatch.setattr(run_local.requests, "post", post)
    keys = {"function": "fn", "master": "ms", "eventgrid_extension": "eg"}
    stack = run_local.Stack(
        app_url="http://127.0.0.1:7071",
        keys=keys,
        eventgrid_url="http://127.0.0.1:10102",
        topic_endpoint="http://127.0.0.1:10102/api/events",
    )

    run_local.subscribe(stack)

    assert posted[0]["endpoint"] == (
        "http://127.0.0.1:7071/runtime/webhooks/eventgrid?functionName=eventgrid_intake&code=eg"
    )
    usage = run_local.usage(stack)
    assert "Keys: function fn, master ms, eventgrid_extension eg" in usage
    assert 'curl -H "x-functions-key: ms" http://127.0.0.1:7071/admin/host/status' in usage


def test_demo_beside_a_running_stack_refuses_in_one_line_and_touches_nothing() -> None:
    """`make demo` while the app's port is taken exits 2 with one line; no log is rewritten."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        logs = REPO_ROOT / ".local" / "logs"
        before = {path: path.stat().st_mtime_ns for path in logs.glob("*.log")}
        result = subprocess.run(
            [sys.executable, str(RUN_LOCAL), "--demo", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"127.0.0.1:{port} is in use" in result.stderr
    assert {path: path.stat().st_mtime_ns for path in logs.glob("*.log")} == before


def test_readme_submit_examples_provision_one_type_each(run_local: ModuleType) -> None:
    """The README names run_local.SUBMIT_EXAMPLES, one example per path, each its own type."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    lines = dict(
        (path, file)
        for file, path in re.findall(r"tools\.submit (examples/\S+) --via (\w+) --follow\n", readme)
    )
    assert lines == run_local.SUBMIT_EXAMPLES
    names = {
        json.loads((REPO_ROOT / file).read_text(encoding="utf-8"))["target"]["interactionName"]
        for file in lines.values()
    }
    assert len(names) == len(run_local.DEMO_PATHS)
