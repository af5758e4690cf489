"""`python -m emulators`: start Azurite and the identity, ARM and Event Grid emulators.

Prints the function app settings as JSON (ready for local.settings.json `Values`), then a short
summary on stderr, and runs until Ctrl-C, SIGTERM or SIGHUP, which stop everything and exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from emulators.azurite import DEFAULT_LOCATION, REPO_ROOT, AzuriteError
from emulators.stack import EmulatorStack

SAMPLE_SETTINGS = REPO_ROOT / "local.settings.sample.json"
DEFAULT_STATE_DIR = REPO_ROOT / ".local" / "emulators"
_EMPTY_SETTINGS: dict[str, Any] = {"IsEncrypted": False, "Values": {}}
# SIGHUP too: closing the terminal must stop Azurite, which runs in its own session and would
# otherwise outlive this process.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class SettingsFileError(Exception):
    """A settings file cannot be read or is not a local.settings.json document."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; defaults are the ports in docs/architecture.md."""
    parser = argparse.ArgumentParser(
        prog="python -m emulators",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--arm-port", type=int, default=10100)
    parser.add_argument("--identity-port", type=int, default=10101)
    parser.add_argument("--eventgrid-port", type=int, default=10102)
    parser.add_argument("--no-azurite", action="store_true", help="do not start Azurite")
    parser.add_argument("--azurite-location", type=Path, default=DEFAULT_LOCATION)
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="where the token secret and the ARM emulator's resources and operations are kept "
        "across restarts",
    )
    parser.add_argument("--blob-port", type=int, default=10000)
    parser.add_argument("--queue-port", type=int, default=10001)
    parser.add_argument("--table-port", type=int, default=10002)
    parser.add_argument(
        "--client-id",
        help="a user-assigned managed identity the identity emulator accepts as client_id "
        "(the system-assigned identity is always accepted)",
    )
    parser.add_argument(
        "--write-settings",
        type=Path,
        metavar="PATH",
        help="also write the settings into this file's Values (created from "
        "local.settings.sample.json when missing; other values are kept)",
    )
    return parser.parse_args(argv)


def merged_settings(document: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """`document` with `values` set in its `Values`, everything else unchanged."""
    existing = document.get("Values", {})
    if not isinstance(existing, dict):
        raise SettingsFileError("'Values' must be a JSON object")
    return {**document, "Values": {**existing, **values}}


def write_settings(path: Path, values: Mapping[str, str]) -> None:
    """Write `values` into the settings file at `path`, creating it from the sample if needed."""
    source = path if path.exists() else SAMPLE_SETTINGS
    document = _read_settings(source) if source.exists() else _EMPTY_SETTINGS
    try:
        _replace_file(path, json.dumps(merged_settings(document, values), indent=2) + "\n")
    except OSError as error:
        raise SettingsFileError(f"cannot write {path}: {error}") from error


def _replace_file(path: Path, text: str) -> None:
    """Write a sibling temporary file, then rename it over `path`: a reader polling the file
    (scripts/run_local.py) sees the old document or the new one, never half of one."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with open(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_settings(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SettingsFileError(f"cannot read {path}: {error}") from error
    if not isinstance(document, dict):
        raise SettingsFileError(f"{path} does not hold a JSON object")
    return document


def summary(stack: EmulatorStack) -> str:
    """A few lines saying what runs where."""
    lines = [f"  {name:<10} {url}" for name, url in stack.urls().items()]
    if stack.azurite is not None:
        blob, queue, table = stack.azurite.ports
        lines.append(
            f"  {'azurite':<10} blob {blob}, queue {queue}, table {table} "
            f"(data in {stack.azurite.location})"
        )
    return "Emulators running:\n" + "\n".join(lines) + "\nPress Ctrl-C to stop."


def main(argv: Sequence[str] | None = None) -> int:
    """Run until interrupted; 0 after a clean stop, 1 if something could not start."""
    args = parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, request_stop)
    stack = EmulatorStack(
        arm_port=args.arm_port,
        identity_port=args.identity_port,
        eventgrid_port=args.eventgrid_port,
        azurite=not args.no_azurite,
        azurite_location=args.azurite_location,
        azurite_ports=(args.blob_port, args.queue_port, args.table_port),
        client_id=args.client_id,
        state_dir=args.state_dir,
    )
    try:
        stack.start()
    except (OSError, AzuriteError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        settings = stack.settings()
        if args.write_settings is not None:
            write_settings(args.write_settings, settings)
        print(json.dumps(settings, indent=2), flush=True)
        print(summary(stack), file=sys.stderr, flush=True)
        stop.wait()
    except SettingsFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
