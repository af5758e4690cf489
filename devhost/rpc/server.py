"""The host's gRPC endpoint: one FunctionRpc EventStream per worker process.

The Functions host listens on loopback, starts each worker with its own `--workerId`, and pairs
the stream that opens with `StartStream(worker_id)` to the channel that started that worker
(azure-functions-host src/WebJobs.Script.Grpc/Server/FunctionRpcService.cs).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import grpc
import grpc.aio

from devhost.rpc import function_rpc_pb2 as pb

_LOG = logging.getLogger("devhost.rpc")

SERVICE = "AzureFunctionsRpcMessages.FunctionRpc"
# The host allows messages of any size: it starts workers with --grpcMaxMessageLength
# int.MaxValue (src/WebJobs.Script/Workers/Rpc/RpcWorkerConstants.cs DefaultMaxMessageLengthBytes).
MAX_MESSAGE_BYTES = 2**31 - 1
GRPC_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]


class WorkerStream:
    """The open EventStream of one worker: send messages to it, iterate what it sends."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._outgoing: asyncio.Queue[pb.StreamingMessage | None] = asyncio.Queue()
        self._incoming: asyncio.Queue[pb.StreamingMessage | None] = asyncio.Queue()

    def send(self, message: pb.StreamingMessage) -> None:
        """Queue a message for the worker; messages go out in order."""
        self._outgoing.put_nowait(message)

    def close(self) -> None:
        """End the stream from the host's side."""
        self._outgoing.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[pb.StreamingMessage]:
        while (message := await self._incoming.get()) is not None:
            yield message

    async def _pump(self, context: grpc.aio.ServicerContext[object, object]) -> None:
        """Serve the call until either side ends it."""
        reader = asyncio.create_task(self._read(context))
        try:
            while (message := await self._outgoing.get()) is not None:
                if reader.done():
                    break
                await context.write(message)
        finally:
            reader.cancel()
            self._incoming.put_nowait(None)

    async def _read(self, context: grpc.aio.ServicerContext[object, object]) -> None:
        try:
            while (message := await context.read()) is not grpc.aio.EOF:
                assert isinstance(message, pb.StreamingMessage)
                self._incoming.put_nowait(message)
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            pass
        finally:
            self._incoming.put_nowait(None)
            self._outgoing.put_nowait(None)


class RpcServer:
    """A FunctionRpc server on 127.0.0.1 that hands each worker's stream to whoever awaits it."""

    def __init__(self) -> None:
        self._server: grpc.aio.Server | None = None
        self._waiting: dict[str, asyncio.Future[WorkerStream]] = {}
        self.port = 0

    async def start(self) -> None:
        """Listen on a free loopback port (`port` then says which)."""
        handler = grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "EventStream": grpc.stream_stream_rpc_method_handler(
                    self._event_stream,
                    request_deserializer=pb.StreamingMessage.FromString,
                    response_serializer=pb.StreamingMessage.SerializeToString,
                )
            },
        )
        self._server = grpc.aio.server(options=GRPC_OPTIONS)
        self._server.add_generic_rpc_handlers((handler,))
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()

    async def stop(self) -> None:
        """Stop at once: open streams end, and their workers see the host go away."""
        if self._server is not None:
            await self._server.stop(grace=None)
            self._server = None
        for waiting in self._waiting.values():
            waiting.cancel()
        self._waiting.clear()

    def expect(self, worker_id: str) -> asyncio.Future[WorkerStream]:
        """A future resolved when the worker with this id opens its stream."""
        future: asyncio.Future[WorkerStream] = asyncio.get_running_loop().create_future()
        self._waiting[worker_id] = future
        return future

    def forget(self, worker_id: str) -> None:
        """Stop waiting for a worker that will not connect (it exited, or start timed out)."""
        future = self._waiting.pop(worker_id, None)
        if future is not None and not future.done():
            future.cancel()

    async def _event_stream(
        self, _requests: object, context: grpc.aio.ServicerContext[object, object]
    ) -> None:
        first = await context.read()
        if not isinstance(first, pb.StreamingMessage) or not first.HasField("start_stream"):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "expected StartStream first")
            return
        worker_id = first.start_stream.worker_id
        waiting = self._waiting.pop(worker_id, None)
        if waiting is None or waiting.done():
            _LOG.warning("a worker with unknown id %r connected; refused", worker_id)
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown worker id {worker_id!r}")
            return
        stream = WorkerStream(worker_id)
        waiting.set_result(stream)
        await stream._pump(context)
