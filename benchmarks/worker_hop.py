"""What running functions in a separate worker process costs: per invocation, and at start.

The local host runs every function in Microsoft's Python worker (azure-functions-runtime) in a
child process it talks to over gRPC on loopback. This script measures that hop, on this
machine, in three parts; every number is wall time from the host's side unless it says so.

1. Per invocation. A trivial HTTP function (`ping`) and a trivial activity (`echo`) of
   benchmarks/apps/hop go through the host's invoke path: the trigger built with
   devhost.bindings, `Invoker.invoke` (which calls `LanguageWorker.invoke`), the reply read back
   (`http_response`, `json_text`). The same Python functions are also called in this process,
   with an `azure.functions.HttpRequest` built for each call. Median and p95 latency of each,
   after a warm-up; "hop cost" is worker minus in-process (median, and p95). Then the same
   invocations with several in flight at once, for latency under load and throughput.
2. Worker start. `LanguageWorker.start()` until it returns: the gRPC server, the process,
   StartStream, WorkerInitRequest (the worker imports function_app.py and indexes it),
   FunctionsMetadataRequest and one FunctionLoadRequest per function. Median of several
   starts, for the benchmark app and for the real app at the repo root.
3. Cold start as the worker sees it. The same start for each app, with each handshake request
   timed by the host from send to reply (a `WorkerChannel` subclass that times `_call`), so
   "WorkerInitRequest" is the worker importing the library and function_app.py and indexing
   it. For comparison, fresh interpreters in the app's folder (timed from inside, so start-up
   is excluded) first load the worker's own modules, untimed, then time the steps of the
   library's worker_init_request one by one: import azure_functions_runtime, import
   function_app, app.get_functions(). What WorkerInitRequest takes beyond those is the rest of
   indexing and the round trip. `import function_app` with nothing loaded is what
   benchmarks.cold_import measures. Starts and interpreters alternate, so noise hits both.

The host's logging is not configured here, so no invocation log line is written (the local
host writes one per invocation at Information).

Read the output as: the in-process columns are the floor (the function itself), the worker
columns what a request pays on the local host, and the start times what a worker (re)start
costs before the first invocation can run. Lower is better; the numbers are this machine's,
so compare runs on one machine only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import azure.functions as func

from benchmarks.fresh_interpreter import probe_json
from devhost.bindings import activity_trigger, http_response, http_trigger, json_text
from devhost.indexing import index_metadata
from devhost.invoker import Invoker
from devhost.outputs import OutputSender
from devhost.rpc import function_rpc_pb2 as pb
from devhost.rpc.channel import WorkerChannel
from devhost.rpc.server import RpcServer
from devhost.rpc.worker import LanguageWorker
from devhost.settings import load_host_config
from devhost.storage import QueueClients

ROOT = Path(__file__).resolve().parent.parent
HOP_APP = Path(__file__).resolve().parent / "apps" / "hop"
URL = "http://127.0.0.1:7071/api/ping"
HEADERS = [("Host", "127.0.0.1:7071"), ("User-Agent", "worker-hop-benchmark")]
ACTIVITY_INPUT = json.dumps("hello")
HANDSHAKE = ("worker_init_request", "functions_metadata_request", "function_load_request")


def worker_environment() -> dict[str, str]:
    """What the worker gets: this process's environment, as the host passes it."""
    return {**os.environ, "FUNCTIONS_WORKER_RUNTIME": "python"}


@dataclass(frozen=True)
class Latencies:
    """Seconds per invocation, and the wall time of the whole batch."""

    samples: list[float]
    wall: float

    @property
    def median_ms(self) -> float:
        """Median latency in milliseconds."""
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        """95th percentile latency in milliseconds."""
        return statistics.quantiles(self.samples, n=20, method="inclusive")[-1] * 1000

    @property
    def per_second(self) -> float:
        """Invocations completed per second of wall time."""
        return len(self.samples) / self.wall


# --- 1. per invocation --------------------------------------------------------------------


def load_hop_module() -> ModuleType:
    """Import benchmarks/apps/hop/function_app.py in this process, under its own name."""
    spec = importlib.util.spec_from_file_location("hop_function_app", HOP_APP / "function_app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def user_functions(module: ModuleType) -> dict[str, Callable[..., Any]]:
    """The app's Python functions by name (the decorators leave builders at module level)."""
    return {f.get_function_name(): f.get_user_function() for f in module.app.get_functions()}


def in_process_calls(module: ModuleType) -> dict[str, Callable[[], None]]:
    """Each benchmark function called directly, with the input the worker would build."""
    functions = user_functions(module)
    ping, echo = functions["ping"], functions["echo"]

    def call_ping() -> None:
        request = func.HttpRequest(
            method="GET",
            url=URL,
            headers=dict(HEADERS),
            params={},
            route_params={},
            body=b"",
        )
        assert ping(request).get_body() == b"pong"

    def call_echo() -> None:
        assert echo(json.loads(ACTIVITY_INPUT)) == "hello"

    return {"ping": call_ping, "echo": call_echo}


def worker_calls(invoker: Invoker) -> dict[str, Callable[[], Awaitable[None]]]:
    """Each benchmark function through the host's invoke path, reply decoded as the host does."""

    async def call_ping() -> None:
        trigger = http_trigger(
            method="GET",
            url=URL,
            headers=HEADERS,
            query=[],
            route_params={},
            body=b"",
            content_length=None,
        )
        status, _, body = http_response(await invoker.invoke("ping", trigger))
        assert (status, body) == (200, b"pong"), (status, body)

    async def call_echo() -> None:
        result = json_text(await invoker.invoke("echo", activity_trigger(ACTIVITY_INPUT)))
        assert json.loads(result) == "hello", result

    return {"ping": call_ping, "echo": call_echo}


def time_in_process(call: Callable[[], None], count: int, warmup: int) -> Latencies:
    """`count` timed calls, one after another, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    samples = []
    started = time.perf_counter()
    for _ in range(count):
        begin = time.perf_counter()
        call()
        samples.append(time.perf_counter() - begin)
    return Latencies(samples, time.perf_counter() - started)


async def time_worker(
    call: Callable[[], Awaitable[None]], count: int, warmup: int, in_flight: int
) -> Latencies:
    """`count` timed invocations with at most `in_flight` outstanding, after a warm-up."""
    for _ in range(warmup):
        await call()
    samples: list[float] = []
    gate = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with gate:
            begin = time.perf_counter()
            await call()
            samples.append(time.perf_counter() - begin)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return Latencies(samples, time.perf_counter() - started)


@contextlib.asynccontextmanager
async def running_invoker(app_dir: Path) -> AsyncIterator[Invoker]:
    """A started worker on `app_dir` behind an Invoker wired as the host wires it."""
    worker = LanguageWorker(app_dir=app_dir, environment=worker_environment())
    http = aiohttp.ClientSession()
    try:
        await worker.start()
        index = index_metadata(worker.functions)
        outputs = OutputSender(
            settings={},
            queues=QueueClients({}),
            http=http,
            base64_queue_messages=True,
            on_enqueued=lambda _queue: None,
        )
        yield Invoker(
            index=index,
            worker=worker,
            outputs=outputs,
            durable_client=lambda: "{}",
            function_timeout=load_host_config(app_dir).function_timeout,
        )
    finally:
        await worker.stop()
        await http.close()


async def per_invocation(
    count: int, warmup: int, in_flight: int
) -> dict[str, dict[str, Latencies]]:
    """For each function: in process, through the worker one at a time, and `in_flight` at once."""
    local = in_process_calls(load_hop_module())
    results: dict[str, dict[str, Latencies]] = {}
    async with running_invoker(HOP_APP) as invoker:
        remote = worker_calls(invoker)
        for name in ("ping", "echo"):
            results[name] = {
                "local": time_in_process(local[name], count, warmup),
                "serial": await time_worker(remote[name], count, warmup, 1),
                "concurrent": await time_worker(remote[name], count, warmup, in_flight),
            }
    return results


# --- 2. worker start ----------------------------------------------------------------------


async def time_start(app_dir: Path) -> tuple[float, int]:
    """Seconds `LanguageWorker.start()` took, and how many functions it loaded."""
    worker = LanguageWorker(app_dir=app_dir, environment=worker_environment())
    try:
        started = time.perf_counter()
        await worker.start()
        return time.perf_counter() - started, len(worker.functions)
    finally:
        await worker.stop()


# --- 3. the handshake's phases ------------------------------------------------------------


class TimedChannel(WorkerChannel):
    """A WorkerChannel that notes when it starts and how long each host request takes."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.started_at = 0.0
        self.first_request_at: float | None = None
        self.phases: dict[str, float] = {}

    async def start(self) -> None:
        self.started_at = time.perf_counter()
        await super().start()

    async def _call(
        self, key: str, message: pb.StreamingMessage, *, within: float | None
    ) -> pb.StreamingMessage:
        begin = time.perf_counter()
        # The first request goes out as soon as StartStream has arrived.
        if self.first_request_at is None:
            self.first_request_at = begin
        try:
            return await super()._call(key, message, within=within)
        finally:
            kind = str(message.WhichOneof("content"))
            self.phases[kind] = self.phases.get(kind, 0.0) + time.perf_counter() - begin


async def time_phases(app_dir: Path) -> dict[str, float]:
    """Seconds of each start phase of one worker on `app_dir` (a channel as LanguageWorker
    makes it, on its own gRPC server)."""
    server = RpcServer()
    await server.start()
    channel = TimedChannel(server=server, app_dir=app_dir, environment=worker_environment())
    try:
        await channel.start()
        finished = time.perf_counter()
        assert channel.first_request_at is not None
        return {
            "start_stream": channel.first_request_at - channel.started_at,
            **{kind: channel.phases.get(kind, 0.0) for kind in HANDSHAKE},
            "total": finished - channel.started_at,
        }
    finally:
        await channel.stop()
        await server.stop()


# A fresh interpreter runs `setup` untimed, then times each step. The worker has its own
# modules (gRPC, the messages, the proxy) loaded when WorkerInitRequest arrives, so the probe of
# what that request does loads them first; then the steps of azure_functions_runtime's
# worker_init_request: import the library (the proxy imports it on that request), import
# function_app (loader.index_function_app), and the SDK's index of it (app.get_functions()).
WORKER_MODULES = "import devhost.worker.start"
INIT_STEPS = (
    ("library", "import azure_functions_runtime"),
    ("app", "import function_app"),
    ("index", "function_app.app.get_functions()"),
)
BARE_STEPS = (("app", "import function_app"),)
PROBE = """
import json, time
{setup}
steps = {{}}
for name, code in {steps!r}:
    start = time.perf_counter()
    exec(code)
    steps[name] = time.perf_counter() - start
print(json.dumps(steps))
"""


def probe(app_dir: Path, steps: tuple[tuple[str, str], ...], setup: str = "") -> dict[str, float]:
    """Seconds of each step in a fresh interpreter in `app_dir`, as the worker starts there."""
    return probe_json(
        PROBE.format(setup=setup, steps=steps),
        cwd=app_dir,
        options=["-X", "no_debug_ranges"],
        env={**worker_environment(), "PYTHONPATH": str(ROOT)},
    )


def cold_start(app_dir: Path, starts: int) -> dict[str, float | None]:
    """Median seconds of each start phase of a worker on `app_dir`, and of the steps of a
    WorkerInitRequest timed in fresh interpreters for comparison; interleaved, so that machine
    noise hits both alike. None marks a heading row."""
    runs, inits, bares = [], [], []
    for _ in range(starts):
        runs.append(asyncio.run(time_phases(app_dir)))
        inits.append(probe(app_dir, INIT_STEPS, WORKER_MODULES))
        bares.append(probe(app_dir, BARE_STEPS))
    phase = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    init = {key: statistics.median(run[key] for run in inits) for key in inits[0]}
    return {
        "process start to StartStream": phase["start_stream"],
        "WorkerInitRequest (import, index)": phase["worker_init_request"],
        "FunctionsMetadataRequest": phase["functions_metadata_request"],
        "FunctionLoadRequest, all functions together": phase["function_load_request"],
        "WorkerChannel.start() total": phase["total"],
        "fresh interpreter, worker's modules loaded:": None,
        "  import azure_functions_runtime": init["library"],
        "  then import function_app": init["app"],
        "  then app.get_functions() (the SDK's index)": init["index"],
        "  WorkerInitRequest less these (the rest, noise)": phase["worker_init_request"]
        - sum(init.values()),
        "fresh interpreter, nothing loaded:": None,
        "  import function_app (as benchmarks.cold_import)": statistics.median(
            run["app"] for run in bares
        ),
    }


# --- output -------------------------------------------------------------------------------


@contextlib.contextmanager
def section(title: str) -> Iterator[None]:
    """A titled block of output, with a blank line after it."""
    print(title)
    yield
    print()


def ms(seconds: float | None) -> str:
    """Seconds as milliseconds for the tables; None (a heading row) as nothing."""
    return "" if seconds is None else f"{seconds * 1000:.1f}"


def print_invocations(results: dict[str, dict[str, Latencies]], in_flight: int) -> None:
    """The per-invocation table and the throughput table."""
    labels = {"ping": "http ping", "echo": "activity echo"}
    with section("1. per invocation, one at a time: latency in ms"):
        print(
            f"{'function':<16}{'in-process':>12}{'p95':>8}{'worker':>10}{'p95':>8}"
            f"{'hop cost':>10}{'p95':>8}"
        )
        for name, row in results.items():
            local, serial = row["local"], row["serial"]
            print(
                f"{labels[name]:<16}{local.median_ms:>12.3f}{local.p95_ms:>8.3f}"
                f"{serial.median_ms:>10.2f}{serial.p95_ms:>8.2f}"
                f"{serial.median_ms - local.median_ms:>10.2f}"
                f"{serial.p95_ms - local.p95_ms:>8.2f}"
            )
    with section(f"   with {in_flight} in flight: latency in ms, throughput in invocations/s"):
        print(
            f"{'function':<16}{'median':>8}{'p95':>8}{'inv/s':>9}"
            f"{'inv/s 1 at a time':>19}{'in-process inv/s':>18}"
        )
        for name, row in results.items():
            concurrent = row["concurrent"]
            print(
                f"{labels[name]:<16}{concurrent.median_ms:>8.2f}{concurrent.p95_ms:>8.2f}"
                f"{concurrent.per_second:>9.0f}{row['serial'].per_second:>19.0f}"
                f"{row['local'].per_second:>18.0f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invocations", type=int, default=400, help="timed, per variant")
    parser.add_argument("--warmup", type=int, default=50, help="untimed, before each variant")
    parser.add_argument("--in-flight", type=int, default=8, help="for the concurrent variant")
    parser.add_argument("--starts", type=int, default=5, help="worker starts per app")
    args = parser.parse_args()
    runtime = importlib.metadata.version("azure-functions-runtime")
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    print(
        f"azure-functions-runtime {runtime}, Python {platform.python_version()}, "
        f"{cores} cores ({usable} usable)"
    )
    print(
        f"{args.invocations} timed invocations per variant after {args.warmup} warm-up, "
        f"concurrent variant {args.in_flight} in flight, {args.starts} worker starts per app"
    )
    print()

    results = asyncio.run(per_invocation(args.invocations, args.warmup, args.in_flight))
    print_invocations(results, args.in_flight)

    apps = {"benchmarks/apps/hop": HOP_APP, "function_app.py (repo root)": ROOT}
    with section(f"2. LanguageWorker.start() until functions are loaded: median of {args.starts}"):
        print(f"{'app':<30}{'functions':>10}{'median ms':>11}{'min ms':>8}{'max ms':>8}")
        for label, app_dir in apps.items():
            asyncio.run(time_start(app_dir))  # warms the disk cache and .pyc files
            runs = [asyncio.run(time_start(app_dir)) for _ in range(args.starts)]
            seconds = [s for s, _ in runs]
            print(
                f"{label:<30}{runs[0][1]:>10}{ms(statistics.median(seconds)):>11}"
                f"{ms(min(seconds)):>8}{ms(max(seconds)):>8}"
            )

    with section(
        f"3. cold start as the worker sees it: median of {args.starts} starts, ms "
        "(phases timed by the host around each request)"
    ):
        print(f"{'':<50}" + "".join(f"{label.split()[0]:>22}" for label in apps))
        table = [cold_start(app_dir, args.starts) for app_dir in apps.values()]
        for label in table[0]:
            line = f"{label:<50}" + "".join(f"{ms(rows[label]):>22}" for rows in table)
            print(line.rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
