"""Run the worker: connect to the host, serve its requests until the stream ends, then exit.

Exit codes: 0 when the host sent WorkerTerminate or ended the stream cleanly, 1 when the host
could not be reached or the stream failed, 2 for a bad command line (one line on stderr).
"""

from __future__ import annotations

import asyncio
import logging
import sys

from devhost.rpc import function_rpc_pb2 as pb
from devhost.worker.arguments import WorkerArguments, parse_arguments
from devhost.worker.dispatcher import Dispatcher
from devhost.worker.logs import RpcLogHandler, console_handler, forwarding_to_host
from devhost.worker.stream import CONNECT_TIMEOUT_SECONDS, HostStream, StreamFailed, open_stream

_LOG = logging.getLogger("devhost.worker")

EXIT_OK = 0
EXIT_FAILED = 1


def main(argv: list[str] | None = None) -> int:
    """The worker's entry point; returns the exit code."""
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    console = console_handler()
    root = logging.getLogger()
    root.addHandler(console)
    root.setLevel(logging.INFO)
    try:
        return asyncio.run(run(arguments, console))
    except Exception:
        _LOG.exception("the worker failed")
        return EXIT_FAILED


async def run(arguments: WorkerArguments, console: logging.Handler) -> int:
    """Serve one EventStream; the exit code says how it ended."""
    dispatcher = Dispatcher(host=arguments.host)
    connected = False
    try:
        async with open_stream(arguments) as stream:
            connected = True
            # The first message names the worker; Microsoft's carries the start request id too
            # (workers/proxy_worker/dispatcher.py `dispatch_forever`).
            stream.send(
                pb.StreamingMessage(
                    request_id=arguments.request_id,
                    start_stream=pb.StartStream(worker_id=arguments.worker_id),
                )
            )
            handler = RpcLogHandler(
                request_id=arguments.request_id, send=stream.send, loop=asyncio.get_running_loop()
            )
            with forwarding_to_host(handler, console):
                await serve(stream, dispatcher)
    except TimeoutError:
        if connected:
            raise
        _LOG.error(
            "the host at %s did not accept a connection within %.0f s",
            arguments.target,
            CONNECT_TIMEOUT_SECONDS,
        )
        return EXIT_FAILED
    except StreamFailed as err:
        _LOG.error("the stream to the host failed: %s", err)
        return EXIT_FAILED
    finally:
        dispatcher.stop()
    return EXIT_OK


async def serve(stream: HostStream, dispatcher: Dispatcher) -> None:
    """Answer the host until it ends the stream or sends WorkerTerminate.

    Raises StreamFailed when the stream breaks instead; requests still running are cancelled.
    """
    # Every request runs in a task of its own, as in Microsoft's proxy worker, so invocations
    # run concurrently and a slow one holds up nothing (dispatcher.py `__poll_grpc`).
    running: set[asyncio.Task[None]] = set()
    try:
        while (message := await stream.read()) is not None:
            if message.HasField("worker_terminate"):
                # Microsoft's proxy worker ignores this message and waits for the host to stop
                # the process; here the worker finishes what is running, within the grace
                # period, and exits.
                grace = message.worker_terminate.grace_period.ToTimedelta().total_seconds()
                if running and grace > 0:
                    await asyncio.wait(set(running), timeout=grace)
                return
            task = asyncio.create_task(_answer(stream, dispatcher, message))
            running.add(task)
            task.add_done_callback(running.discard)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


async def _answer(stream: HostStream, dispatcher: Dispatcher, message: pb.StreamingMessage) -> None:
    try:
        reply = await dispatcher.dispatch(message)
    except Exception:
        # Microsoft's worker lets the task fail and sends nothing; say why at least.
        _LOG.exception("handling %s failed", message.WhichOneof("content"))
        return
    if reply is not None:
        stream.send(reply)
