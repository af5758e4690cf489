"""Call a user function the way the worker does: keyword arguments by binding name, `func.Out`
for each output, the durable client JSON for `durableClient` inputs; then deliver its outputs."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devhost.bindings import Out, value_size
from devhost.indexing import FunctionIndex, IndexedFunction
from devhost.logs import logged_invocation
from devhost.outputs import OutputSender

_LOG = logging.getLogger("devhost.invoker")

RETURN = "$return"


class Invoker:
    """Runs functions of one index: sync ones in a thread pool, async ones on the host loop."""

    def __init__(
        self,
        *,
        index: FunctionIndex,
        outputs: OutputSender,
        durable_client: Callable[[], str],
        executor: ThreadPoolExecutor,
    ) -> None:
        self._index = index
        self._outputs = outputs
        self._durable_client = durable_client
        self._executor = executor

    async def invoke(self, function_name: str, trigger_value: Any) -> Any:
        """Run the function with `trigger_value` bound to its trigger and return its result.

        Output bindings are delivered only when the function succeeds; a failed delivery fails
        the invocation. The function's own exception propagates unchanged.
        """
        function = self._index[function_name]
        with logged_invocation(function.name, function.trigger_type):
            return await self._run(function, trigger_value)

    async def _run(self, function: IndexedFunction, trigger_value: Any) -> Any:
        kwargs: dict[str, Any] = {function.trigger.name: trigger_value}
        outs = {b.name: Out() for b in function.outputs if b.name != RETURN}
        kwargs.update(outs)
        for binding in function.inputs:
            if binding.type == "durableClient":
                kwargs[binding.name] = self._durable_client()
        _LOG.debug(
            "%s: trigger %r, %d bytes",
            function.name,
            function.trigger.name,
            value_size(trigger_value),
        )
        if function.is_async:
            result = await function.user_function(**kwargs)
        else:
            loop = asyncio.get_running_loop()
            call = functools.partial(function.user_function, **kwargs)
            result = await loop.run_in_executor(self._executor, call)
        for binding in function.outputs:
            value = result if binding.name == RETURN else outs[binding.name].get()
            if value is not None:
                _LOG.debug(
                    "%s: output %r (%s), %d bytes",
                    function.name,
                    binding.name,
                    binding.type,
                    value_size(value),
                )
            await self._outputs.send(binding, value)
        return result
