"""Send a request envelope to the function app by HTTP, the storage queue or Event Grid.

    python -m tools.submit examples/interaction.json --via queue --follow
    python -m tools.submit my-types/ other.json      # a batch: several files or folders

The file is validated first, as the app would (defaults from the settings file), and nothing is
sent if it has problems. `--follow` polls `GET /api/operations/{id}` until the operation ends
and, when the topic is the local Event Grid emulator, shows the completion event.

Exit codes: 0 the request was sent (with --follow: the operation Succeeded); 1 any other
outcome, or the app or a service could not be reached; 2 a mistake in the command line, the
file, the settings or a key; 3 --follow timed out.

A batch (several files, or a folder of *.json) is always followed: one line per type as it
ends, then a table of how many were created, updated, none (already in effect) and failed;
the exit code is 1 if any failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from shared.names import ROUTE_PREFIX, SETTING_TOPIC_ENDPOINT, STORAGE_CONNECTION
from shared.operation import OperationStatus
from tools.console import EXIT_FAILED, EXIT_OK, Progress, ToolError, UsageError
from tools.follow import Follower
from tools.intakes import Sent, send_eventgrid, send_http, send_queue, topic_auth_headers
from tools.local_topic import LocalTopic, find_local_topic
from tools.request_file import Submission, read_settings, read_submission

DEFAULT_URL = "http://127.0.0.1:7071"
DEFAULT_SETTINGS = Path("local.settings.json")
KEY_SETTING = "DEVHOST_FUNCTION_KEY"
KEY_ENVIRONMENT = "FUNCTION_KEY"
EXIT_INTERRUPTED = 130


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.submit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "files",
        type=Path,
        nargs="+",
        help="request envelopes (see examples/interaction.json), or folders of them",
    )
    parser.add_argument("--via", choices=("http", "queue", "eventgrid"), default="http")
    parser.add_argument("--follow", action="store_true", help="wait for the operation to end")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the app (default {DEFAULT_URL})")
    parser.add_argument(
        "--key", help=f"function key (default: ${KEY_ENVIRONMENT}, else {KEY_SETTING})"
    )
    parser.add_argument(
        "--settings",
        type=Path,
        help=f"local.settings.json to read (default ./{DEFAULT_SETTINGS}, if it exists)",
    )
    parser.add_argument("--request-id", help="requestId to send (default: the file's, else new)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds --follow waits (default 300)"
    )
    parser.add_argument(
        "--connection-string", help=f"storage for --via queue ({STORAGE_CONNECTION})"
    )
    parser.add_argument("--topic-endpoint", help=f"topic URL ({SETTING_TOPIC_ENDPOINT})")
    parser.add_argument(
        "--topic-key", help="topic key, for a topic with local auth (default: an Entra ID token)"
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    args.url = args.url.rstrip("/")
    args.paths = _expand(args.files)
    if len(args.paths) > 1 and args.request_id:
        parser.error("--request-id names one request; it cannot be used with several files")
    return args


def _expand(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code."""
    args = parse_args(argv)
    deadline = time.monotonic() + args.timeout
    try:
        with ExitStack() as resources:
            if len(args.paths) != 1 or args.files[0].is_dir():
                return _run_batch(args, resources, deadline)
            return _run(args, resources, deadline)
    except ToolError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted; the operation, if started, goes on in the app", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace, resources: ExitStack, deadline: float) -> int:
    settings = read_settings(args.settings or DEFAULT_SETTINGS, required=args.settings is not None)
    submission = read_submission(args.paths[0], settings=settings, request_id=args.request_id)
    key = args.key or os.environ.get(KEY_ENVIRONMENT) or settings.get(KEY_SETTING) or None
    topic_endpoint = args.topic_endpoint or settings.get(SETTING_TOPIC_ENDPOINT)
    local = find_local_topic(topic_endpoint) if args.follow or args.via == "eventgrid" else None
    sent_at = datetime.now(UTC)
    sent = _send(args, submission, settings, key=key, local=local, resources=resources)
    print(sent.summary)
    print(f"operation {sent.operation_id}, requestId {submission.request_id}")
    print(f"status: {args.url}/{ROUTE_PREFIX}/operations/{sent.operation_id}", flush=True)
    if not args.follow:
        return EXIT_OK
    return _follower(args, submission, sent, key, local, sent_at, deadline).run()


def _follower(
    args: argparse.Namespace,
    submission: Submission,
    sent: Sent,
    key: str | None,
    local: LocalTopic | None,
    sent_at: datetime,
    deadline: float,
) -> Follower:
    return Follower(
        url=args.url,
        key=key,
        submission=submission,
        sent=sent,
        local=local,
        sent_at=sent_at,
        deadline=deadline,
        progress=Progress(),
    )


BATCH_OUTCOMES = ("created", "updated", "none", "failed")


def _run_batch(args: argparse.Namespace, resources: ExitStack, deadline: float) -> int:
    if not args.paths:
        raise UsageError("no request files found (a folder is searched for *.json)")
    settings = read_settings(args.settings or DEFAULT_SETTINGS, required=args.settings is not None)
    key = args.key or os.environ.get(KEY_ENVIRONMENT) or settings.get(KEY_SETTING) or None
    local = find_local_topic(args.topic_endpoint or settings.get(SETTING_TOPIC_ENDPOINT))
    counts = dict.fromkeys(BATCH_OUTCOMES, 0)
    for number, path in enumerate(args.paths, start=1):
        outcome, detail = _one_of_batch(args, path, settings, key, local, resources, deadline)
        counts[outcome] += 1
        print(f"[{number}/{len(args.paths)}] {path.name}: {outcome}  {detail}", flush=True)
    print("  ".join(f"{name:>8}" for name in BATCH_OUTCOMES))
    print("  ".join(f"{counts[name]:>8}" for name in BATCH_OUTCOMES))
    return EXIT_FAILED if counts["failed"] else EXIT_OK


def _one_of_batch(
    args: argparse.Namespace,
    path: Path,
    settings: dict[str, str],
    key: str | None,
    local: LocalTopic | None,
    resources: ExitStack,
    deadline: float,
) -> tuple[str, str]:
    """How one file of a batch ended: an outcome of BATCH_OUTCOMES and a short detail."""
    try:
        submission = read_submission(path, settings=settings, request_id=None)
        sent_at = datetime.now(UTC)
        sent = _send(args, submission, settings, key=key, local=local, resources=resources)
        view = _follower(args, submission, sent, key, local, sent_at, deadline).final_view()
    except ToolError as error:
        return "failed", str(error).splitlines()[0]
    if view["status"] != OperationStatus.SUCCEEDED or view.get("change") not in BATCH_OUTCOMES:
        arm_error = view.get("error") or {}
        return "failed", f"{view['status']} {arm_error.get('code', '')}".strip()
    return str(view["change"]), f"operation {view['operationId']}"


def _send(
    args: argparse.Namespace,
    submission: Submission,
    settings: dict[str, str],
    *,
    key: str | None,
    local: LocalTopic | None,
    resources: ExitStack,
) -> Sent:
    if args.via == "http":
        return send_http(submission, url=args.url, key=key)
    if args.via == "queue":
        connection = args.connection_string or settings.get(STORAGE_CONNECTION)
        if not connection:
            raise UsageError(
                f"--via queue needs a storage connection string: --connection-string, "
                f"or {STORAGE_CONNECTION} in the settings file"
            )
        return send_queue(submission, connection_string=connection, resources=resources)
    endpoint = args.topic_endpoint or settings.get(SETTING_TOPIC_ENDPOINT)
    if not endpoint:
        raise UsageError(
            f"--via eventgrid needs the topic: --topic-endpoint, "
            f"or {SETTING_TOPIC_ENDPOINT} in the settings file"
        )
    headers = topic_auth_headers(settings, args.topic_key)
    return send_eventgrid(submission, topic_endpoint=endpoint, auth_headers=headers, local=local)


if __name__ == "__main__":
    sys.exit(main())
