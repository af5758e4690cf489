"""Hands each host request to the library unchanged and wraps its answer for the stream.

The routing, the request wrappers and where the thread pool starts are those of Microsoft's
proxy worker (azure-functions-python-worker workers/proxy_worker/dispatcher.py
`_dispatch_grpc_request` and the `_handle__*` methods). The only logic here is transport: which
handler a message goes to and which StreamingMessage member carries the answer.

Every reply carries the request_id of the message it answers. Microsoft's worker does that only
for WorkerStatusResponse and FunctionMetadataResponse and puts its own start request id on the
others; the Functions host does not mind, as it pairs replies by message type (invocations by
invocation_id), azure-functions-host src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs.
"""

from __future__ import annotations

import logging
import os
import sys

from devhost.rpc import function_rpc_pb2 as pb
from devhost.worker.library import Library, WorkerRequest, init_properties, load_library
from devhost.worker.logs import current_invocation

_LOG = logging.getLogger("devhost.worker")

# Where the host says the app lives (Azure and Core Tools set it for the worker process).
SCRIPT_ROOT_SETTING = "AzureWebJobsScriptRoot"


class Dispatcher:
    """Answers the host's requests through the library; one instance per stream."""

    def __init__(self, *, host: str) -> None:
        self._host = host
        self._library: Library | None = None

    async def dispatch(self, message: pb.StreamingMessage) -> pb.StreamingMessage | None:
        """The reply to one host message, or None for messages that get none."""
        kind = message.WhichOneof("content")
        match kind:
            case "worker_init_request":
                return await self._worker_init(message)
            case "function_environment_reload_request":
                return await self._environment_reload(message)
            case "functions_metadata_request":
                return await self._functions_metadata(message)
            case "function_load_request":
                return await self._function_load(message)
            case "invocation_request":
                return await self._invocation(message)
            case "worker_status_request":
                # Answered here, without a log line: the host times these replies to judge load
                # (`_handle__worker_status_request`); it matches them by request_id.
                return pb.StreamingMessage(
                    request_id=message.request_id, worker_status_response=pb.WorkerStatusResponse()
                )
            case _:
                # InvocationCancel included: Microsoft's proxy worker handles no other message and
                # says so at error level (the host sends InvocationCancel only to workers that
                # declare the HandlesInvocationCancelMessage capability, which the library
                # does not).
                _LOG.error("Unknown StreamingMessage content type: %s", kind)
                return None

    def stop(self) -> None:
        """Stop the library's thread pool (it waits for synchronous functions still running)."""
        if self._library is not None:
            self._library.stop_threadpool_executor()

    def _loaded(self) -> Library:
        if self._library is None:
            self._library = load_library()
        return self._library

    async def _worker_init(self, message: pb.StreamingMessage) -> pb.StreamingMessage:
        _LOG.debug("Received WorkerInitRequest, python version %s", sys.version)
        # Microsoft's proxy puts the app's folder on sys.path before the library imports
        # function_app (utils/dependency.py `prioritize_customer_dependencies`, working directory
        # from AzureWebJobsScriptRoot); `python -m` has put the current directory first anyway.
        _append_to_path(os.environ.get(SCRIPT_ROOT_SETTING, ""))
        library = self._loaded()
        library.start_threadpool_executor()
        response = await library.worker_init_request(
            WorkerRequest("WorkerInitRequest", message, init_properties(self._host))
        )
        return pb.StreamingMessage(request_id=message.request_id, worker_init_response=response)

    async def _environment_reload(self, message: pb.StreamingMessage) -> pb.StreamingMessage:
        _LOG.debug("Received FunctionEnvironmentReloadRequest")
        directory = message.function_environment_reload_request.function_app_directory
        _append_to_path(_absolute(directory))
        library = self._loaded()
        library.start_threadpool_executor()
        response = await library.function_environment_reload_request(
            WorkerRequest("FunctionEnvironmentReloadRequest", message, init_properties(self._host))
        )
        return pb.StreamingMessage(
            request_id=message.request_id, function_environment_reload_response=response
        )

    async def _functions_metadata(self, message: pb.StreamingMessage) -> pb.StreamingMessage:
        _LOG.debug("Received WorkerMetadataRequest")
        response = await self._loaded().functions_metadata_request(
            WorkerRequest("WorkerMetadataRequest", message)
        )
        return pb.StreamingMessage(
            request_id=message.request_id, function_metadata_response=response
        )

    async def _function_load(self, message: pb.StreamingMessage) -> pb.StreamingMessage:
        request = message.function_load_request
        _LOG.debug(
            "Received WorkerLoadRequest, function_id: %s, function_name: %s",
            request.function_id,
            request.metadata.name,
        )
        response = await self._loaded().function_load_request(
            WorkerRequest("FunctionLoadRequest", message)
        )
        return pb.StreamingMessage(request_id=message.request_id, function_load_response=response)

    async def _invocation(self, message: pb.StreamingMessage) -> pb.StreamingMessage:
        invocation_id = message.invocation_request.invocation_id
        # This runs in the invocation's own task: what the function logs, and every task it
        # starts, carries its invocation id (logs.current_invocation).
        current_invocation.set(invocation_id)
        _LOG.debug("Received FunctionInvocationRequest, invocation_id: %s", invocation_id)
        response = await self._loaded().invocation_request(
            WorkerRequest("FunctionInvocationRequest", message)
        )
        return pb.StreamingMessage(request_id=message.request_id, invocation_response=response)


def _absolute(directory: str) -> str:
    # Microsoft's proxy makes the reload request's folder absolute before adding it.
    return os.path.abspath(directory) if directory else ""


def _append_to_path(folder: str) -> None:
    # Last on sys.path, as Microsoft's DependencyManager._add_to_sys_path(path, False) puts it.
    if folder and folder not in sys.path:
        sys.path.append(folder)
        sys.path_importer_cache.pop(folder, None)
