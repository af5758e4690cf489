"""The worker's end of the host's EventStream: connect, write in order, read until it ends.

Microsoft's proxy worker keeps the stream on a thread of its own with grpc's blocking API
(azure-functions-python-worker workers/proxy_worker/dispatcher.py `__poll_grpc`); here it is
grpc.aio on the event loop, through the generic API since there is no _pb2_grpc module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import grpc
import grpc.aio

from devhost.rpc import function_rpc_pb2 as pb
from devhost.worker.arguments import WorkerArguments

_LOG = logging.getLogger("devhost.worker.stream")

METHOD = "/AzureFunctionsRpcMessages.FunctionRpc/EventStream"
# How long the host may take to accept the connection (start_worker.py _GRPC_CONNECTION_TIMEOUT).
CONNECT_TIMEOUT_SECONDS = 5.0
# How long queued messages may take to go out once the worker decides to stop.
FLUSH_TIMEOUT_SECONDS = 5.0

_StreamCall = grpc.aio.StreamStreamCall[pb.StreamingMessage, pb.StreamingMessage]
_StreamMethod = grpc.aio.StreamStreamMultiCallable[pb.StreamingMessage, pb.StreamingMessage]


class StreamFailed(Exception):  # noqa: N818  # reads as the event it reports
    """The stream ended with an error status (the host went away, or refused the worker)."""


class HostStream:
    """An open EventStream. Messages are written in the order they are sent."""

    def __init__(self, call: _StreamCall) -> None:
        self._call = call
        self._outgoing: asyncio.Queue[pb.StreamingMessage | None] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name="host stream writer")

    def send(self, message: pb.StreamingMessage) -> None:
        """Queue a message for the host (call on the event loop's thread)."""
        self._outgoing.put_nowait(message)

    async def read(self) -> pb.StreamingMessage | None:
        """The host's next message; None once the host has ended the stream cleanly."""
        try:
            message = await self._call.read()
        except grpc.aio.AioRpcError as err:
            raise StreamFailed(f"{err.code().name}: {err.details()}") from err
        if message is grpc.aio.EOF:
            code = await self._call.code()
            if code != grpc.StatusCode.OK:
                raise StreamFailed(f"{code.name}: {await self._call.details()}")
            return None
        if not isinstance(message, pb.StreamingMessage):
            raise StreamFailed(f"unexpected message type {type(message).__name__}")
        return message

    async def close(self) -> None:
        """Send what is queued, then end the worker's side of the stream."""
        self._outgoing.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._writer), FLUSH_TIMEOUT_SECONDS)
        except TimeoutError:
            _LOG.warning("messages still queued for the host were dropped")
        finally:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    async def _write(self) -> None:
        try:
            while (message := await self._outgoing.get()) is not None:
                await self._call.write(message)
            await self._call.done_writing()
        except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError) as err:
            # The call is over (the host ended it, or it failed): the reader reports why.
            _LOG.debug("stopped writing to the host: %s", err)


@contextlib.asynccontextmanager
async def open_stream(arguments: WorkerArguments) -> AsyncIterator[HostStream]:
    """Connect to the host and open the EventStream; TimeoutError if it does not answer."""
    options = [
        ("grpc.max_send_message_length", arguments.max_message_length),
        ("grpc.max_receive_message_length", arguments.max_message_length),
    ]
    channel = grpc.aio.insecure_channel(arguments.target, options=options)
    try:
        await asyncio.wait_for(channel.channel_ready(), CONNECT_TIMEOUT_SECONDS)
        method: _StreamMethod = channel.stream_stream(
            METHOD,
            request_serializer=pb.StreamingMessage.SerializeToString,
            response_deserializer=pb.StreamingMessage.FromString,
        )
        stream = HostStream(method())
        try:
            yield stream
        finally:
            await stream.close()
    finally:
        await channel.close(grace=None)
