"""Microsoft's worker library (azure-functions-runtime) and the request object it is handed.

The library does the worker's real work: it imports function_app.py, checks each function's
bindings, converts TypedData to and from Python values and calls the functions. A proxy worker
only hands it the host's messages, wrapped as Microsoft's proxy worker wraps them
(azure-functions-python-worker workers/proxy_worker/dispatcher.py, `WorkerRequest`), and sends
back what it returns. The library builds its responses from the `protos` module it is given,
here our compiled messages, so they are ready to put in a StreamingMessage.
"""

from __future__ import annotations

import importlib
from contextvars import ContextVar
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, cast

from devhost.rpc import function_rpc_pb2 as pb

LIBRARY_MODULE = "azure_functions_runtime"


@dataclass
class WorkerRequest:
    """What each library handler receives: it reads `request.request.<content>`.

    `properties` is given to the two handlers that (re)load the app, with the `protos` module the
    library builds messages from and the `host` address (the library serves HTTP streaming
    there); the other handlers get None, as from Microsoft's proxy worker.
    """

    name: str
    request: pb.StreamingMessage
    properties: dict[str, Any] | None = None


class Library(Protocol):
    """The library's public handlers (azure_functions_runtime/__init__.py `__all__`)."""

    invocation_id_cv: ContextVar[str | None]

    async def worker_init_request(self, request: WorkerRequest) -> pb.WorkerInitResponse:
        """Import and index the app; the response says whether that worked."""

    async def functions_metadata_request(
        self, request: WorkerRequest
    ) -> pb.FunctionMetadataResponse:
        """The functions indexed at init."""

    async def function_load_request(self, request: WorkerRequest) -> pb.FunctionLoadResponse:
        """Acknowledge one function (indexing already loaded it)."""

    async def invocation_request(self, request: WorkerRequest) -> pb.InvocationResponse:
        """Run one invocation."""

    async def function_environment_reload_request(
        self, request: WorkerRequest
    ) -> pb.FunctionEnvironmentReloadResponse:
        """Replace the environment and index the app again (placeholder specialization)."""

    def start_threadpool_executor(self) -> None:
        """(Re)create the pool that runs synchronous functions."""

    def stop_threadpool_executor(self) -> None:
        """Shut the pool down, waiting for running functions."""


def load_library() -> Library:
    """Import the library (once; later calls return the same module)."""
    module: ModuleType = importlib.import_module(LIBRARY_MODULE)
    return cast(Library, module)


def init_properties(host: str) -> dict[str, Any]:
    """The properties of a WorkerInitRequest or FunctionEnvironmentReloadRequest wrapper."""
    return {"protos": pb, "host": host}
