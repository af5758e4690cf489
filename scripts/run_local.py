"""Run the function app locally with everything it talks to; what `make run` and `make demo` call.

    python scripts/run_local.py [--demo] [--port 7071] [--time-scale 1]

Starts the emulators (`python -m emulators`, which writes their settings into
local.settings.json), then the app host (`func start` when USE_FUNC_CORE_TOOLS=1 and `func` is
installed, else `python -m devhost`), then subscribes the app's Event Grid trigger to the local
topic for intake events only. Runs until Ctrl-C. With --demo it instead submits one request by
each intake path, follows each to its end, prints a summary and exits: 0 only if all three
Succeeded and the topic received their three completion events.

Logs go to .local/logs/. Only the standard library and requests: this runs before anything
else is known to work.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
SETTINGS = REPO_ROOT / "local.settings.json"
SAMPLE_SETTINGS = REPO_ROOT / "local.settings.sample.json"
LOG_DIR = REPO_ROOT / ".local" / "logs"
DEMO_DIR = REPO_ROOT / ".local" / "demo"
EXAMPLE = REPO_ROOT / "examples" / "interaction.json"
WRAPPED_EXAMPLE = REPO_ROOT / "examples" / "interaction-wrapped.json"

INTAKE_EVENT_TYPE = "CustomerInsights.InteractionType.ProvisioningRequested"
COMPLETION_EVENT_PREFIX = "CustomerInsights.InteractionType.Provisioning"
# shared.names.EVENTGRID_INTAKE; this script runs with only the standard library and requests.
INTAKE_FUNCTION = "eventgrid_intake"
# shared.names.SETTING_TOPIC_ENDPOINT: the completion topic connection's endpoint setting.
TOPIC_ENDPOINT_SETTING = "COMPLETION_TOPIC__topicEndpointUri"
# devhost.keys' settings, by the name of the key each holds.
KEY_SETTINGS = {
    "function": "DEVHOST_FUNCTION_KEY",
    "master": "DEVHOST_MASTER_KEY",
    "eventgrid_extension": "DEVHOST_EVENTGRID_EXTENSION_KEY",
    "durabletask_extension": "DEVHOST_DURABLETASK_EXTENSION_KEY",
}
START_TIMEOUT_SECONDS = 60.0
# `python -m emulators` may need Azurite's 10 s and the Event Grid delivery worker's 11 s in
# turn before it exits on its own; SIGKILL sooner would orphan Azurite (its own session).
STOP_TIMEOUT_SECONDS = 30.0
# SIGHUP too: closing the terminal must still stop the children, each in its own session.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
DEMO_TIMEOUT_SECONDS = 120.0
DEMO_PATHS = ("http", "queue", "eventgrid")
# One example per path, each naming its own interaction type, so that each provisions one.
SUBMIT_EXAMPLES = {
    "http": "examples/interaction.json",
    "queue": "examples/interaction-queue.json",
    "eventgrid": "examples/interaction-eventgrid.json",
}
_LOG_TAIL_LINES = 25
_HTTP_TIMEOUT_SECONDS = 5.0


class StartError(Exception):
    """Something did not come up; the message says what and shows its log tail."""


class Stop(Exception):  # noqa: N818 - a request to stop, not an error
    """Ctrl-C (SIGINT), SIGTERM or SIGHUP arrived."""


class Child:
    """A process in its own process group; its output goes to a log file and maybe the terminal."""

    def __init__(
        self, name: str, argv: Sequence[str], *, echo: Callable[[str], str | None] | None = None
    ) -> None:
        """`echo` turns an output line into what to print on the terminal (None: nothing)."""
        self.name = name
        self.argv = list(argv)
        self.log_path = LOG_DIR / f"{name}.log"
        self._echo = echo
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Launch; a thread copies every output line to the log (and the terminal if asked)."""
        log = self.log_path.open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # Its own group: Ctrl-C reaches only this script, which stops each group in turn.
            start_new_session=True,
        )
        assert self._process.stdout is not None
        threading.Thread(
            target=self._copy, args=(self._process.stdout, log), name=self.name, daemon=True
        ).start()

    def _copy(self, source: IO[str], log: IO[str]) -> None:
        with log:
            for line in source:
                log.write(line)
                log.flush()
                shown = None if self._echo is None else self._echo(line)
                if shown is not None:
                    print(shown, end="", flush=True)

    def check_alive(self) -> None:
        """Raise StartError, with the log tail, if the process has exited."""
        if self._process is None or self._process.poll() is None:
            return
        raise StartError(
            f"{self.name} exited with code {self._process.returncode}; "
            f"last lines of {self.log_path.relative_to(REPO_ROOT)}:\n{self.tail()}"
        )

    def tail(self) -> str:
        """The last lines of the log."""
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "  (no log)"
        return "\n".join(f"  {line}" for line in lines[-_LOG_TAIL_LINES:])

    def exit_code(self) -> int | None:
        """The exit code, or None while the process runs."""
        return None if self._process is None else self._process.poll()

    def stop(self) -> None:
        """SIGTERM to the whole group, then SIGKILL if it has not ended in time."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass


def wait_for(
    what: str, ready: Callable[[], bool], children: Sequence[Child], deadline: float
) -> None:
    """Poll `ready` until it holds; fail fast if a child dies, or at the deadline."""
    while not ready():
        for child in children:
            child.check_alive()
        if time.monotonic() > deadline:
            raise StartError(f"gave up waiting for {what} after {START_TIMEOUT_SECONDS:.0f} s")
        time.sleep(0.1)


def answers(url: str) -> bool:
    """Whether GET `url` answers 200."""
    try:
        return requests.get(url, timeout=_HTTP_TIMEOUT_SECONDS).status_code == 200
    except requests.RequestException:
        return False


def port_open(url: str) -> bool:
    """Whether something accepts connections at the host and port of `url`."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=0.5):
            return True
    except OSError:
        return False


def origin(url: str) -> str:
    """`scheme://host:port` of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def read_values(path: Path = SETTINGS) -> dict[str, str]:
    """The `Values` of local.settings.json."""
    values: dict[str, str] = json.loads(path.read_text(encoding="utf-8-sig"))["Values"]
    return values


def emulators_ready(settings: Path, launched: float) -> bool:
    """Whether `python -m emulators` started at `launched` has written `settings` (which it does
    once every emulator and Azurite answer) and what the file names answers."""
    if settings.stat().st_mtime < launched:
        return False
    try:
        values = read_values(settings)
        health = [
            origin(values[name]) + "/_emulator/health"
            for name in ("ARM_ENDPOINT", "IDENTITY_ENDPOINT", TOPIC_ENDPOINT_SETTING)
        ]
        storage = storage_endpoints(values["AzureWebJobsStorage"])
    except (ValueError, KeyError):
        # Caught mid-write, or missing a value: not ready yet, so look again.
        return False
    return all(answers(url) for url in health) and all(port_open(url) for url in storage)


def add_missing_keys(settings: Path = SETTINGS, sample: Path = SAMPLE_SETTINGS) -> list[str]:
    """Copy into `settings` the sample's key settings it lacks (a file made before devhost had
    them would otherwise refuse the Event Grid subscription); the names added. An empty value
    stays: it is how a key is left unset."""
    document = json.loads(settings.read_text(encoding="utf-8-sig"))
    defaults = read_values(sample)
    missing = [name for name in KEY_SETTINGS.values() if name not in document["Values"]]
    if missing:
        document["Values"].update({name: defaults[name] for name in missing})
        settings.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return missing


def storage_endpoints(connection_string: str) -> list[str]:
    """Blob, queue and table endpoints named in an explicit storage connection string."""
    parts = dict(item.split("=", 1) for item in connection_string.split(";") if "=" in item)
    return [
        parts[name] for name in ("BlobEndpoint", "QueueEndpoint", "TableEndpoint") if name in parts
    ]


@dataclass(frozen=True)
class Stack:
    """Where the running parts answer."""

    app_url: str
    keys: dict[str, str]  # the configured ones, by the names of KEY_SETTINGS
    eventgrid_url: str
    topic_endpoint: str


def start_emulators(args: argparse.Namespace, children: list[Child], deadline: float) -> None:
    """Start `python -m emulators` and wait until it has written its settings and answers."""
    command = [sys.executable, "-m", "emulators", "--write-settings", str(SETTINGS)]
    if args.demo:
        # A fresh queue store, so that a message left over from `make run` is not processed.
        command += ["--azurite-location", str(DEMO_DIR / "azurite")]
        command += ["--state-dir", str(DEMO_DIR / "emulators")]
    launched = time.time()
    emulators = Child("emulators", command)
    children.append(emulators)
    emulators.start()
    wait_for("the emulators", lambda: emulators_ready(SETTINGS, launched), children, deadline)


def start_app(args: argparse.Namespace, children: list[Child], deadline: float) -> Stack:
    """Start the app host, wait for /api/ping, subscribe its Event Grid trigger; where it runs."""
    if os.environ.get("USE_FUNC_CORE_TOOLS") == "1" and shutil.which("func"):
        command = ["func", "start", "--port", str(args.port)]
    else:
        command = [sys.executable, "-m", "devhost", "--port", str(args.port)]
        command += ["--settings", str(SETTINGS), "--time-scale", str(args.time_scale)]
        if args.demo:
            command += ["--state-dir", str(DEMO_DIR / "devhost")]
    # In the demo the submit tool reports progress; the host's lines would bury it.
    host = Child("devhost", command, echo=_warnings_only if args.demo else lambda line: line)
    children.append(host)
    host.start()
    app_url = f"http://127.0.0.1:{args.port}"
    wait_for(f"the app at {app_url}", lambda: answers(f"{app_url}/api/ping"), children, deadline)
    values = read_values()
    stack = Stack(
        app_url=app_url,
        keys={name: values[s] for name, s in KEY_SETTINGS.items() if values.get(s)},
        eventgrid_url=origin(values[TOPIC_ENDPOINT_SETTING]),
        topic_endpoint=values[TOPIC_ENDPOINT_SETTING],
    )
    subscribe(stack)
    return stack


def _warnings_only(line: str) -> str | None:
    if any(level in line for level in ("WARNING", "ERROR", "CRITICAL", "Traceback")):
        return line
    return None


def subscribe(stack: Stack) -> None:
    """Push intake events (only those: completion events share the topic) to the app."""
    webhook = f"{stack.app_url}/runtime/webhooks/eventgrid?functionName={INTAKE_FUNCTION}"
    # The webhook takes the Event Grid extension's system key, as in Azure.
    if "eventgrid_extension" in stack.keys:
        webhook += f"&code={stack.keys['eventgrid_extension']}"
    response = requests.post(
        f"{stack.eventgrid_url}/_emulator/subscriptions",
        json={"endpoint": webhook, "includedEventTypes": [INTAKE_EVENT_TYPE]},
        timeout=30,
    )
    if response.status_code != 201:
        raise StartError(
            f"could not subscribe the app to the local topic ({response.status_code}): "
            f"{response.text.strip()}"
        )


def python_command() -> str:
    """How to spell this interpreter in a command to copy: relative inside the repository."""
    executable = Path(sys.executable)
    if executable.is_relative_to(REPO_ROOT):
        return str(executable.relative_to(REPO_ROOT))
    return executable.name


def usage(stack: Stack) -> str:
    """The "what to call" block."""
    function_key = stack.keys.get("function")
    master_key = stack.keys.get("master")
    master_lines = [
        "Host status:",
        f'  curl -H "x-functions-key: {master_key}" {stack.app_url}/admin/host/status',
    ]
    key_header = f' -H "x-functions-key: {function_key}"' if function_key else ""
    url_option = "" if stack.app_url.endswith(":7071") else f" --url {stack.app_url}"
    submit = f"{python_command()} -m tools.submit"
    keys = ", ".join(f"{name} {value}" for name, value in stack.keys.items())
    lines = [
        f"The app runs at {stack.app_url}",
        f"Keys: {keys}" if keys else "Keys: none configured, every route is open",
        "",
        "Submit a definition:",
        f'  curl -X PUT "{stack.app_url}/api/hubs/sdkTestHub/interactions/TestProfileType396"'
        f'{key_header} -H "Content-Type: application/json" '
        f"--data @{WRAPPED_EXAMPLE.relative_to(REPO_ROOT)}",
        *(
            f"  {submit} {SUBMIT_EXAMPLES[path]} --via {path} --follow{url_option}"
            for path in DEMO_PATHS
        ),
        "Status of an operation:",
        f"  curl{key_header} {stack.app_url}/api/operations/<operationId>",
        *(master_lines if master_key else []),
        "Events the topic received:",
        f"  curl {stack.eventgrid_url}/_emulator/events",
        f"Logs: {LOG_DIR.relative_to(REPO_ROOT)}/emulators.log, "
        f"{LOG_DIR.relative_to(REPO_ROOT)}/devhost.log",
    ]
    return "\n".join(lines)


@dataclass
class DemoRun:
    """One intake path of the demo."""

    path: str
    interaction: str
    exit_code: int | None = None
    seconds: float = 0.0
    event: dict[str, Any] | None = None

    @property
    def outcome(self) -> str:
        """The completion event's outcome, or why there is none."""
        if self.event is not None:
            return str(self.event["data"].get("outcome"))
        return {None: "not run", 3: "timed out"}.get(self.exit_code, f"exit {self.exit_code}")

    @property
    def succeeded(self) -> bool:
        """Exit 0 and a Succeeded completion event."""
        return self.exit_code == 0 and self.outcome == "Succeeded"


def run_demo(stack: Stack, children: list[Child]) -> bool:
    """Submit by each path at once, following each to its end; True if all three succeeded."""
    example = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    name = example["target"]["interactionName"]
    runs = [DemoRun(path, f"{name}{path.capitalize()}") for path in DEMO_PATHS]
    started = time.monotonic()
    submits = [_start_submit(run, example, stack) for run in runs]
    children.extend(submits)
    pending = list(zip(runs, submits, strict=True))
    while pending:
        for run, submit in list(pending):
            run.exit_code = submit.exit_code()
            if run.exit_code is not None:
                run.seconds = time.monotonic() - started
                pending.remove((run, submit))
        time.sleep(0.05)
    events = requests.get(f"{stack.eventgrid_url}/_emulator/events", timeout=30).json()["events"]
    hub = example["target"]["hub"]
    for run in runs:
        subject = f"hubs/{hub}/interactions/{run.interaction}"
        run.event = next(
            (
                event
                for event in events
                if event.get("subject") == subject
                and event.get("eventType", "").startswith(COMPLETION_EVENT_PREFIX)
                and event.get("eventType") != INTAKE_EVENT_TYPE
            ),
            None,
        )
    print(summary_table(runs))
    return all(run.succeeded for run in runs)


def _start_submit(run: DemoRun, example: dict[str, Any], stack: Stack) -> Child:
    """Start the submit tool for one path; its lines show on the terminal prefixed by the path."""
    envelope = {**example, "target": {**example["target"], "interactionName": run.interaction}}
    request_file = DEMO_DIR / f"interaction-{run.path}.json"
    request_file.write_text(json.dumps(envelope, indent=2), encoding="utf-8")
    command = [sys.executable, "-m", "tools.submit", str(request_file), "--via", run.path]
    command += ["--follow", "--url", stack.app_url, "--settings", str(SETTINGS)]
    command += ["--timeout", str(DEMO_TIMEOUT_SECONDS)]
    prefix = f"[{run.path:<9}] "
    submit = Child(f"submit-{run.path}", command, echo=lambda line: prefix + line)
    submit.start()
    return submit


def summary_table(runs: Sequence[DemoRun]) -> str:
    """Path, interaction, operation id, outcome and seconds, one row per run."""
    rows = [("path", "interaction", "operation", "outcome", "seconds")]
    for run in runs:
        operation = run.event["data"].get("operationId") if run.event else "-"
        rows.append((run.path, run.interaction, str(operation), run.outcome, f"{run.seconds:.1f}"))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n" + "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python scripts/run_local.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--demo", action="store_true", help="submit by every path, then exit")
    parser.add_argument("--port", type=int, default=7071, help="the app's port (default 7071)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="orchestration seconds per real second in the local host (default 1)",
    )
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    return args


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    # From the first stop signal on, stopping is under way: another must not interrupt it.
    _ignore_stop_signals()
    raise Stop


def _ignore_stop_signals() -> None:
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_IGN)


def stop_on_signals() -> None:
    """Make each stop signal raise `Stop` in the main thread."""
    # Explicitly, as a shell starting this in the background would have SIGINT ignored.
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _raise_stop)


def stop_children(children: Sequence[Child]) -> None:
    """Stop every child, newest first, deaf to further stop signals: a second Ctrl-C raising
    `Stop` here would skip the children not yet stopped and leave them running."""
    _ignore_stop_signals()
    for child in reversed(children):
        child.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Start, serve or demo, stop; the exit code."""
    args = parse_args(argv)
    app_origin = f"http://127.0.0.1:{args.port}"
    if port_open(app_origin):
        # Checked before anything is written: the running stack's settings, logs and state
        # (both share local.settings.json and .local/logs/) stay as they are.
        print(
            f"error: {app_origin} is in use (is `make run` up?); stop it before `make run` "
            "or `make demo`, which share its settings, logs and state",
            file=sys.stderr,
        )
        return 2
    started = time.monotonic()
    stop_on_signals()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    if not SETTINGS.exists():
        shutil.copyfile(SAMPLE_SETTINGS, SETTINGS)
        print(f"Created {SETTINGS.name} from {SAMPLE_SETTINGS.name}")
    added = add_missing_keys()
    if added:
        print(f"Added {', '.join(added)} to {SETTINGS.name} from {SAMPLE_SETTINGS.name}")
    if args.demo:
        # Fresh durable state and queues each time, so the demo runs the same every time.
        shutil.rmtree(DEMO_DIR, ignore_errors=True)
        DEMO_DIR.mkdir(parents=True)
    children: list[Child] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        start_emulators(args, children, deadline)
        stack = start_app(args, children, deadline)
        print(f"\nReady in {time.monotonic() - started:.1f} s.", flush=True)
        if args.demo:
            demo_started = time.monotonic()
            succeeded = run_demo(stack, children)
            print(
                f"\nDemo {'passed' if succeeded else 'FAILED'} in "
                f"{time.monotonic() - demo_started:.1f} s."
            )
            return 0 if succeeded else 1
        print(usage(stack) + "\nPress Ctrl-C to stop.", flush=True)
        while True:
            for child in children:
                child.check_alive()
            time.sleep(0.5)
    except StartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Stop:
        print("\nStopping...", flush=True)
        return 0
    finally:
        stop_children(children)


if __name__ == "__main__":
    sys.exit(main())
