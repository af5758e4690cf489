"""Run a function in the language worker and deliver its output bindings, as the host does."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from devhost.bindings import TriggerInput, durable_client_input, typed_data_size
from devhost.indexing import FunctionIndex
from devhost.logs import logged_invocation
from devhost.outputs import OutputSender
from devhost.rpc import function_rpc_pb2 as pb
from devhost.rpc.worker import LanguageWorker

_LOG = logging.getLogger("devhost.invoker")

RETURN = "$return"


class FunctionInvocationError(RuntimeError):
    """The function raised (or the worker refused its input); the message is the worker's."""


class FunctionTimeoutError(TimeoutError):
    """The function ran past host.json's functionTimeout."""


class Invoker:
    """Sends invocations of one app's functions to its worker."""

    def __init__(
        self,
        *,
        index: FunctionIndex,
        worker: LanguageWorker,
        outputs: OutputSender,
        durable_client: Callable[[], str],
        function_timeout: timedelta | None,
    ) -> None:
        self._timeout = function_timeout
        self._index = index
        self._worker = worker
        self._outputs = outputs
        self._durable_client = durable_client

    async def invoke(self, function_name: str, trigger: TriggerInput) -> pb.TypedData | None:
        """Run the function with `trigger` and return its `$return` value, if any.

        Output bindings are delivered only when the function succeeds; a failed delivery fails
        the invocation. A function that raised fails with FunctionInvocationError; a worker
        that died during the call fails it with WorkerExited.
        """
        function = self._index[function_name]
        with logged_invocation(function.name, function.trigger_type):
            request = pb.InvocationRequest(
                invocation_id=str(uuid.uuid4()),
                input_data=[pb.ParameterBinding(name=function.trigger.name, data=trigger.data)],
                trigger_metadata=dict(trigger.metadata),
            )
            for binding in function.inputs:
                if binding.type == "durableClient":
                    request.input_data.append(
                        pb.ParameterBinding(
                            name=binding.name, data=durable_client_input(self._durable_client())
                        )
                    )
            _LOG.debug(
                "%s: trigger %r, %d bytes",
                function.name,
                function.trigger.name,
                typed_data_size(trigger.data),
            )
            response = await self._call(function.name, request)
            if response.result.status != pb.StatusResult.Success:
                reason = response.result.exception.message or "the function failed"
                raise FunctionInvocationError(reason)
            values = {output.name: output.data for output in response.output_data}
            for binding in function.outputs:
                if binding.name == RETURN or binding.type == "http":
                    continue
                value = values.get(binding.name)
                if value is not None and value.WhichOneof("data") is not None:
                    _LOG.debug(
                        "%s: output %r (%s), %d bytes",
                        function.name,
                        binding.name,
                        binding.type,
                        typed_data_size(value),
                    )
                    await self._outputs.send(binding, value)
            return response.return_value if response.HasField("return_value") else None

    async def _call(self, name: str, request: pb.InvocationRequest) -> pb.InvocationResponse:
        if self._timeout is None:
            return await self._worker.invoke(name, request)
        try:
            return await asyncio.wait_for(
                self._worker.invoke(name, request), self._timeout.total_seconds()
            )
        except TimeoutError:
            # The host cannot stop a running function, so it replaces the worker running it
            # (FunctionExecutor.TryHandleTimeoutAsync, then a worker restart that is not
            # counted as a worker error).
            self._worker.recycle()
            raise FunctionTimeoutError(
                f"Timeout value of {_timespan(self._timeout)} was exceeded by function: "
                f"Functions.{name}"
            ) from None


def _timespan(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    return f"{seconds // 3600:02}:{seconds % 3600 // 60:02}:{seconds % 60:02}"
