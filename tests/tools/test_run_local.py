"""scripts/run_local.py, the `make run` launcher: stopping its children and reading settings."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

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
