"""The worker's command line, in both spellings the Functions host passes.

The host starts a language worker with `--host H --port P --workerId W --requestId R
--grpcMaxMessageLength N` followed by the same values as `--functions-uri http://H:P/
--functions-worker-id W --functions-request-id R --functions-grpc-max-message-length N`
(azure-functions-host src/WebJobs.Script/Workers/Rpc/RpcWorkerContext.cs). Microsoft's proxy
worker declares both spellings and reads only the first one (azure-functions-python-worker
workers/proxy_worker/start_worker.py): here the first spelling wins too, and the second fills in
whatever the first leaves out. (The host's own comment there advises workers the other way round;
it passes the same values in both, so only a hand-written command line can tell the difference.)
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

EXIT_USAGE = 2
# gRPC reads -1 as "no limit". Microsoft's proxy worker always opens its channel with it: it
# parses --grpcMaxMessageLength but never hands it to the channel (start_worker.py, dispatcher.py).
UNLIMITED = -1


@dataclass(frozen=True)
class WorkerArguments:
    """Where the host listens and who this worker is."""

    host: str
    port: int
    worker_id: str
    request_id: str
    max_message_length: int = UNLIMITED

    @property
    def target(self) -> str:
        """The host's address as gRPC writes it (IPv6 literals in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line on stderr, not argparse's usage block: the host relays each line as a log.
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _parser() -> _Parser:
    parser = _Parser(
        prog="python -m devhost.worker",
        description="Language worker: runs the app's functions in azure-functions-runtime.",
    )
    parser.add_argument("--host", help="the host's gRPC address")
    parser.add_argument("--port", type=int, help="the host's gRPC port")
    parser.add_argument("--workerId", dest="worker_id", help="id the host gave this worker")
    parser.add_argument("--requestId", dest="request_id", help="id of the start request")
    parser.add_argument("--grpcMaxMessageLength", dest="max_length", type=int)
    parser.add_argument("--functions-uri", dest="uri", help="http://host:port/ of the host")
    parser.add_argument("--functions-worker-id", dest="functions_worker_id")
    parser.add_argument("--functions-request-id", dest="functions_request_id")
    parser.add_argument(
        "--functions-grpc-max-message-length", dest="functions_max_length", type=int
    )
    return parser


def parse_arguments(argv: list[str]) -> WorkerArguments:
    """The arguments, or exit 2 with one line on stderr when they do not say how to connect."""
    parser = _parser()
    args = parser.parse_args(argv)
    uri_host: str | None = None
    uri_port: int | None = None
    if args.uri is not None:
        try:
            uri = urlsplit(args.uri)
            uri_host, uri_port = uri.hostname, uri.port
        except ValueError as err:
            parser.error(f"argument --functions-uri: {err}")
        if uri_host is None or uri_port is None:
            parser.error(f"argument --functions-uri: no host and port in {args.uri!r}")
    host: str | None = args.host or uri_host
    port: int | None = args.port if args.port is not None else uri_port
    worker_id: str | None = args.worker_id or args.functions_worker_id
    request_id: str | None = args.request_id or args.functions_request_id
    length: int | None = args.max_length
    if length is None:
        length = args.functions_max_length
    if host is None or port is None or worker_id is None or request_id is None:
        missing = [
            name
            for name, value in (
                ("--host", host),
                ("--port", port),
                ("--workerId", worker_id),
                ("--requestId", request_id),
            )
            if value is None
        ]
        parser.error(f"missing {', '.join(missing)} (or its --functions-* form)")
    if not 0 < port < 65536:
        parser.error(f"port {port} is out of range")
    return WorkerArguments(
        host=host,
        port=port,
        worker_id=worker_id,
        request_id=request_id,
        max_message_length=UNLIMITED if length is None else length,
    )
