"""Poll one triggered storage queue and run its function, with the queue extension's retry and
poison behaviour (docs/contracts/functions-io.md §3 and §4)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from azure.core.exceptions import AzureError
from azure.storage.queue import QueueMessage as StoredMessage
from azure.storage.queue.aio import QueueClient

from devhost.bindings import TriggerInput, decode_queue_text, queue_trigger
from devhost.queue_policy import (
    MIN_POLLING_INTERVAL,
    AfterFailure,
    Disposition,
    after_failure,
    next_polling_interval,
    on_receive,
    poison_queue_name,
)
from devhost.settings import QueueOptions

_LOG = logging.getLogger("devhost.queues")

# How long a received message stays invisible while its function runs (the extension's
# default; it also renews the lease, which this host does not).
PROCESSING_VISIBILITY_SECONDS = 600


class QueueListener:
    """Receives batches from one queue and settles each message after its invocation."""

    def __init__(
        self,
        *,
        function_name: str,
        queue: QueueClient,
        poison_queue: Callable[[], Awaitable[QueueClient]],
        options: QueueOptions,
        invoke: Callable[[str, TriggerInput], Awaitable[Any]],
    ) -> None:
        self.function_name = function_name
        self.queue_name: str = queue.queue_name
        self._queue = queue
        self._poison_queue = poison_queue
        self._options = options
        self._invoke = invoke
        self._wake = asyncio.Event()
        # Tasks the polling loop does not own, so that cancelling it leaves them to `stop`.
        self._in_flight: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """Poll now instead of waiting out the current interval."""
        self._wake.set()

    async def run(self) -> None:
        """Poll until cancelled; errors are logged and the poll retried after the interval."""
        interval = min(MIN_POLLING_INTERVAL, self._options.max_polling_interval)
        while True:
            found = False
            try:
                found = await self.poll_once()
            except AzureError as err:
                _LOG.warning("queue %r: receive failed, will retry: %s", self.queue_name, err)
            except Exception:
                # A listener that dies silently stops the app's intake; keep polling, loudly.
                _LOG.exception("queue %r: poll failed, will retry", self.queue_name)
            interval = next_polling_interval(
                interval, found_messages=found, maximum=self._options.max_polling_interval
            )
            if not found:
                await self._sleep(interval)

    async def poll_once(self) -> bool:
        """Receive one batch and process it; whether any message was received."""
        batch = [
            message
            async for message in self._queue.receive_messages(
                max_messages=self._options.batch_size,
                messages_per_page=self._options.batch_size,
                visibility_timeout=PROCESSING_VISIBILITY_SECONDS,
            )
        ]
        tasks = [self._start_processing(message) for message in batch]
        if tasks:
            await asyncio.wait(tasks)  # unlike gather, a cancelled wait leaves the tasks be
        return bool(batch)

    async def stop(self, grace_seconds: float) -> None:
        """After the `run` task is cancelled: give the invocations in flight `grace_seconds`
        to finish, then cancel the rest and release their messages to be received again."""
        pending = set(self._in_flight)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _start_processing(self, stored: StoredMessage) -> asyncio.Task[None]:
        task = asyncio.create_task(self._process(stored), name=f"message {stored.id}")
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def _process(self, stored: StoredMessage) -> None:
        try:
            await self._settle(stored)
        except AzureError as err:
            # The message stays invisible until its lease ends, then is received again.
            _LOG.warning("queue %r: message %s not settled: %s", self.queue_name, stored.id, err)
        except asyncio.CancelledError:
            # Shielded: a stopping host must not leave the message hidden for the whole lease.
            await asyncio.shield(self._release(stored))
            raise

    async def _release(self, stored: StoredMessage) -> None:
        """Make an unfinished message visible again at once; it keeps its dequeue count."""
        try:
            await self._queue.update_message(
                stored.id, pop_receipt=stored.pop_receipt, visibility_timeout=0
            )
        except AzureError as err:
            # Deleted or moved to poison just before the cancellation: nothing to release.
            _LOG.warning("queue %r: message %s not released: %s", self.queue_name, stored.id, err)
        else:
            _LOG.info("queue %r: message %s released unfinished", self.queue_name, stored.id)

    async def _settle(self, stored: StoredMessage) -> None:
        body = decode_queue_text(str(stored.content), base64_encoding=self._options.base64)
        dequeue_count = int(stored.dequeue_count or 1)
        disposition = on_receive(
            decodable=body is not None,
            dequeue_count=dequeue_count,
            max_dequeue_count=self._options.max_dequeue_count,
        )
        if body is None or disposition is Disposition.POISON:
            reason = "is not valid base64" if body is None else "was already dequeued too often"
            await self._move_to_poison(stored, f"Message {stored.id} {reason}")
            return
        trigger = queue_trigger(
            message_id=stored.id,
            body=body,
            dequeue_count=dequeue_count,
            pop_receipt=str(stored.pop_receipt),
            inserted_on=stored.inserted_on,
            expires_on=stored.expires_on,
            next_visible_on=stored.next_visible_on,
        )
        try:
            await self._invoke(self.function_name, trigger)
        except Exception:
            # The invoker has logged the failure; here only the message's fate is decided.
            await self._after_failure(stored, dequeue_count)
            return
        await self._queue.delete_message(stored.id, pop_receipt=stored.pop_receipt)

    async def _after_failure(self, stored: StoredMessage, dequeue_count: int) -> None:
        limit = self._options.max_dequeue_count
        if after_failure(dequeue_count=dequeue_count, max_dequeue_count=limit) is (
            AfterFailure.POISON
        ):
            await self._move_to_poison(
                stored, f"Message {stored.id} has reached MaxDequeueCount of {limit}"
            )
            return
        # By id and pop receipt, not the message object, so the stored body is left as is.
        await self._queue.update_message(
            stored.id,
            pop_receipt=stored.pop_receipt,
            visibility_timeout=_whole_seconds(self._options.visibility_timeout),
        )

    async def _move_to_poison(self, stored: StoredMessage, reason: str) -> None:
        poison = await self._poison_queue()
        _LOG.warning("%s. Moving message to queue %r.", reason, poison_queue_name(self.queue_name))
        await poison.send_message(stored.content)
        await self._queue.delete_message(stored.id, pop_receipt=stored.pop_receipt)

    async def _sleep(self, interval: timedelta) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=interval.total_seconds())
        self._wake.clear()


def _whole_seconds(duration: timedelta) -> int:
    return max(0, round(duration.total_seconds()))
