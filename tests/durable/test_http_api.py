"""The durable HTTP API, driven by the unmodified SDK client over a real loopback server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import azure.functions as func
import pytest
from aiohttp import web
from aiohttp.typedefs import Middleware
from azure.durable_functions import DurableOrchestrationClient, OrchestrationRuntimeStatus
from azure.durable_functions.models.utils import http_utils

from devhost.durable import DurableEngine
from devhost.durable.client_binding import client_binding_json
from devhost.durable.http_api import Handler, build_routes
from devhost.keys import HostKeys
from tests.durable.conftest import EngineFactory
from tests.durable.harness import START

FUNCTION_KEY = "test-durabletask-key"  # the webhook's system key, as `code`
KEYS = HostKeys(durabletask_extension=FUNCTION_KEY)
T = TypeVar("T")


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for every SDK client call in this module."""
    loop = asyncio.new_event_loop()
    yield loop
    # The SDK keeps a module-global aiohttp session bound to the first loop that used it
    # (pitfall 10). Close it on that loop so later modules get a fresh one.
    loop.run_until_complete(http_utils._close_session())
    loop.close()


@dataclass
class Api:
    """A running durable HTTP API over one engine, and clients for it."""

    loop: asyncio.AbstractEventLoop
    engine: DurableEngine
    origin: str
    client: DurableOrchestrationClient
    session: aiohttp.ClientSession

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the module's loop."""
        return self.loop.run_until_complete(coro)

    def settle(self, until_minutes: float | None = None) -> None:
        """Let the engine run until idle (or until START + the given minutes)."""
        until = None if until_minutes is None else START + timedelta(minutes=until_minutes)
        self.run(self.engine.run_until_idle(until))

    def request(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any, Any]:
        """Send a raw request; returns status, parsed JSON body (or None) and headers."""

        async def send() -> tuple[int, Any, Any]:
            async with self.session.request(method, url, **kwargs) as response:
                text = await response.text()
                return response.status, json.loads(text) if text else None, response.headers

        return self.run(send())

    @contextlib.contextmanager
    def serve(self, middleware: Middleware) -> Iterator[str]:
        """A second server over the same engine with `middleware` in front; yields its origin."""
        runner, origin = _serve(self.loop, self.engine, [middleware])
        try:
            yield origin
        finally:
            self.run(runner.cleanup())


def _serve(
    loop: asyncio.AbstractEventLoop, engine: DurableEngine, middlewares: list[Middleware]
) -> tuple[web.AppRunner, str]:
    app = web.Application(middlewares=middlewares)
    app.add_routes(build_routes(engine, keys=KEYS))
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
def api(loop: asyncio.AbstractEventLoop, make_engine: EngineFactory) -> Iterator[Api]:
    """An engine on a VirtualClock behind an aiohttp server on a free loopback port."""
    engine, _ = make_engine()
    runner, origin = _serve(loop, engine, [])
    client = DurableOrchestrationClient(
        client_binding_json(origin, engine.task_hub, KEYS.durabletask_extension)
    )
    session = loop.run_until_complete(_new_session())
    yield Api(loop, engine, origin, client, session)
    loop.run_until_complete(session.close())
    loop.run_until_complete(runner.cleanup())


async def _new_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


class TestSdkClient:
    """Each DurableOrchestrationClient call against the engine's RPC routes."""

    def test_start_new_then_status_with_history(self, api: Api):
        """start_new returns the id; get_status shows the output and the named history."""
        instance_id = api.run(api.client.start_new("chain"))
        api.settle()
        status = api.run(
            api.client.get_status(instance_id, show_history=True, show_history_output=True)
        )

        assert status.runtime_status == OrchestrationRuntimeStatus.Completed
        assert status.output == ["Hello Tokyo!", "Hello Seattle!"]
        events = status.historyEvents
        assert events[0]["EventType"] == "ExecutionStarted"
        assert events[1]["FunctionName"] == "greet"
        assert events[1]["Result"] == "Hello Tokyo!"

    def test_double_encoded_input_is_unwrapped_once(self, api: Api):
        """The client's input reaches the orchestrator as the value it sent."""
        instance_id = api.run(api.client.start_new("fan_out", "fan", ["x", "y"]))
        api.settle()
        status = api.run(api.client.get_status(instance_id))

        assert status.output == ["Hello x!", "Hello y!"]
        assert json.loads(status.input_) == ["x", "y"]

    def test_unknown_orchestrator_raises_the_extension_message(self, api: Api):
        """start_new of an unknown name raises with the extension's 400 ExceptionMessage."""
        with pytest.raises(Exception, match="The function 'nope' doesn't exist"):
            api.run(api.client.start_new("nope"))

    def test_start_new_on_a_running_id_is_refused(self, api: Api):
        """A second start_new with a Pending id raises the extension's 500 body."""
        api.run(api.client.start_new("cancellable", "dup"))
        with pytest.raises(Exception, match="with the status Pending already exists"):
            api.run(api.client.start_new("cancellable", "dup"))

    def test_raise_event_reaches_the_waiting_orchestrator(self, api: Api):
        """raise_event's data arrives as the value the client sent."""
        api.run(api.client.start_new("cancellable", "waiter"))
        api.settle(until_minutes=1)
        api.run(api.client.raise_event("waiter", "cancel", {"by": "client"}))
        api.settle()

        status = api.run(api.client.get_status("waiter"))
        assert status.output == {"outcome": "canceled", "data": {"by": "client"}}

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"data": "plain"}, "Only application/json"),
            ({"data": "{nope", "headers": {"Content-Type": "application/json"}}, "JSON"),
        ],
        ids=["not-json-content-type", "malformed-json"],
    )
    def test_raise_event_needs_json_content(self, api: Api, kwargs, message):
        """An event body that is not JSON is refused with 400 and a message."""
        api.run(api.client.start_new("cancellable", "picky"))
        url = f"{api.origin}/durabletask/instances/picky/raiseEvent/cancel"
        status, body, _ = api.request("POST", url, **kwargs)
        assert status == 400
        assert message in body["Message"]

    def test_raise_event_on_unknown_instance_raises(self, api: Api):
        """raise_event on an unknown id raises the SDK's not-found error (404)."""
        with pytest.raises(Exception, match="No instance with ID ghost found"):
            api.run(api.client.raise_event("ghost", "cancel", None))

    def test_terminate_records_the_reason(self, api: Api):
        """terminate leaves the instance Terminated with the reason as output."""
        api.run(api.client.start_new("cancellable", "doomed"))
        api.settle(until_minutes=1)
        api.run(api.client.terminate("doomed", "test over"))

        status = api.run(api.client.get_status("doomed"))
        assert status.runtime_status == OrchestrationRuntimeStatus.Terminated
        assert status.output == "test over"

    def test_purge_deletes_the_instance(self, api: Api):
        """purge_instance_history deletes one instance; its status becomes falsy."""
        instance_id = api.run(api.client.start_new("chain"))
        api.settle()
        result = api.run(api.client.purge_instance_history(instance_id))

        assert result.instances_deleted == 1
        assert not api.run(api.client.get_status(instance_id))

    def test_status_all_and_by_runtime_status(self, api: Api):
        """get_status_all lists every instance; get_status_by filters by runtime status."""
        api.run(api.client.start_new("chain", "list-done"))
        api.run(api.client.start_new("cancellable", "list-waiting"))
        api.settle(until_minutes=1)

        everything = api.run(api.client.get_status_all())
        running = api.run(
            api.client.get_status_by(runtime_status=[OrchestrationRuntimeStatus.Running])
        )
        assert sorted(s.instance_id for s in everything) == ["list-done", "list-waiting"]
        assert [s.instance_id for s in running] == ["list-waiting"]


class TestWebhookUrls:
    """The public management URLs from create_check_status_response, followed over HTTP."""

    def test_check_status_response_urls_answer(self, api: Api):
        """Status, raise-event, terminate and purge URLs behave as the extension's do."""
        instance_id = api.run(api.client.start_new("cancellable"))
        request = func.HttpRequest(method="POST", url=f"{api.origin}/api/start", body=b"")
        response = api.client.create_check_status_response(request, instance_id)
        urls = json.loads(response.get_body())
        assert response.status_code == 202
        assert response.headers["Location"] == urls["statusQueryGetUri"]
        assert urls["statusQueryGetUri"].startswith(
            f"{api.origin}/runtime/webhooks/durabletask/instances/{instance_id}?"
        )

        api.settle(until_minutes=1)
        status, body, headers = api.request("GET", urls["statusQueryGetUri"])
        assert (status, body["runtimeStatus"], headers["Retry-After"]) == (202, "Running", "5")

        send_event = urls["sendEventPostUri"].replace("{eventName}", "cancel")
        assert api.request("POST", send_event, json={"by": "url"})[0] == 202
        api.settle()
        status, body, _ = api.request("GET", urls["statusQueryGetUri"])
        assert (status, body["output"]) == (200, {"outcome": "canceled", "data": {"by": "url"}})

        terminate = urls["terminatePostUri"].replace("{text}", "late")
        assert api.request("POST", terminate)[0] == 410
        assert api.request("DELETE", urls["purgeHistoryDeleteUri"])[:2] == (
            200,
            {"instancesDeleted": 1},
        )
        assert api.request("GET", urls["statusQueryGetUri"])[0] == 404

    @pytest.mark.parametrize("query", ["", "?code=wrong"], ids=["without-code", "with-wrong-code"])
    def test_public_routes_require_the_durabletask_key(self, api: Api, query: str):
        """The webhook routes answer 401, with an empty body, without the right `code`."""
        url = f"{api.origin}/runtime/webhooks/durabletask/instances/any{query}"
        status, body, _ = api.request("GET", url)
        assert (status, body) == (401, None)

    def test_public_routes_take_the_key_in_the_header_too(self, api: Api):
        """x-functions-key works as `code` does, as for HTTP triggers."""
        url = f"{api.origin}/runtime/webhooks/durabletask/instances/"
        status, body, _ = api.request("GET", url, headers={"x-functions-key": FUNCTION_KEY})
        assert (status, body) == (200, [])

    def test_rpc_routes_refuse_clients_beyond_this_machine(self, api: Api):
        """The keyless RPC routes answer 403 to a non-loopback client; the webhook serves it."""

        @web.middleware
        async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
            # What a forwarding proxy's middleware does: the far client becomes `remote`.
            return await handler(request.clone(remote="192.0.2.10"))

        with api.serve(forwarded) as origin:
            rpc = api.request("GET", f"{origin}/durabletask/instances/")
            webhook = api.request(
                "GET", f"{origin}/runtime/webhooks/durabletask/instances/?code={FUNCTION_KEY}"
            )
        assert rpc[0] == 403
        assert "only to clients on this machine" in rpc[1]["Message"]
        assert webhook[:2] == (200, [])

    @pytest.mark.parametrize(
        ("purge", "expected"), [(False, 410), (True, 404)], ids=["terminated", "purged"]
    )
    def test_instance_ending_while_the_event_body_arrives(self, api: Api, purge, expected):
        """An instance that ends between the status check and the event answers 410 or 404."""
        api.run(api.client.start_new("cancellable", "racing"))
        api.settle(until_minutes=1)
        handler_waiting = asyncio.Event()

        @web.middleware
        async def announce(request: web.Request, handler: Handler) -> web.StreamResponse:
            # Set before the handler runs; the test sees it once the handler waits for the body.
            handler_waiting.set()
            return await handler(request)

        async def end_instance() -> None:
            await api.engine.terminate("racing", "ended meanwhile")
            if purge:
                await api.engine.purge("racing")

        with api.serve(announce) as origin:
            path = "/durabletask/instances/racing/raiseEvent/cancel"
            status = api.run(_post_after(origin, path, handler_waiting, end_instance))
        assert status == expected

    @pytest.mark.parametrize("status", ["Pending", "Running"])
    def test_start_on_an_active_id_answers_the_extension_500(self, api: Api, status: str):
        """Starting a Pending or Running id hits the extension's catch-all: 500, its body."""
        api.run(api.client.start_new("cancellable", "busy"))
        if status == "Running":
            api.settle(until_minutes=1)
        url = f"{api.origin}/durabletask/orchestrators/chain/busy"
        code, body, _ = api.request("POST", url)

        assert code == 500
        assert body == {
            "Message": "Something went wrong while processing your request",
            "ExceptionMessage": f"An Orchestration instance with the status {status} already "
            "exists.",
            "ExceptionType": "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException",
            "StackTrace": None,
        }
        assert api.run(api.client.get_status("busy")).runtime_status.value == status

    @pytest.mark.parametrize(
        ("orchestrator", "terminate"),
        [("chain", False), ("uncaught_failure", False), ("cancellable", True)],
        ids=["completed", "failed", "terminated"],
    )
    def test_start_on_a_finished_id_overwrites_it(self, api: Api, orchestrator, terminate):
        """A Completed, Failed or Terminated id is started afresh (NonRunningStates)."""
        api.run(api.client.start_new(orchestrator, "reused"))
        api.settle(until_minutes=1)
        if terminate:
            api.run(api.client.terminate("reused", "make room"))
        url = f"{api.origin}/runtime/webhooks/durabletask/orchestrators/chain/reused"
        code, body, _ = api.request("POST", url, params={"code": FUNCTION_KEY})
        api.settle()

        assert (code, body["id"]) == (202, "reused")
        status = api.run(api.client.get_status("reused"))
        assert status.name == "chain"
        assert status.output == ["Hello Tokyo!", "Hello Seattle!"]

    def test_failed_instance_answers_200_unless_500_is_requested(self, api: Api):
        """Failed is 200 by default and 500 with returnInternalServerErrorOnFailure=true."""
        instance_id = api.run(api.client.start_new("uncaught_failure"))
        api.settle()
        url = f"{api.origin}/durabletask/instances/{instance_id}"

        status, body, _ = api.request("GET", url)
        assert (status, body["runtimeStatus"]) == (200, "Failed")
        assert api.request("GET", f"{url}?returnInternalServerErrorOnFailure=true")[0] == 500

    @pytest.mark.parametrize(
        ("method", "path", "kwargs", "expected"),
        [
            ("POST", "/durabletask/orchestrators/chain", {"data": "{nope"}, 400),
            ("POST", "/durabletask/instances/x/rewind", {}, 501),
            ("POST", "/durabletask/instances/x/dance", {}, 404),
            ("DELETE", "/durabletask/instances/", {}, 400),
        ],
        ids=["bad-json-input", "rewind", "unknown-operation", "purge-no-from"],
    )
    def test_bad_requests_get_clear_errors(self, api: Api, method, path, kwargs, expected):
        """Malformed or unsupported requests get a status and a message, never a 500."""
        status, body, _ = api.request(method, f"{api.origin}{path}", **kwargs)
        assert status == expected
        assert body["Message"]


async def _post_after(
    origin: str, path: str, handler_waiting: asyncio.Event, meanwhile: Callable[[], Awaitable[None]]
) -> int:
    """POST a JSON body that is held back until the handler waits for it and `meanwhile` ran.

    Raw HTTP/1.1, because aiohttp's client sends the headers only with the first body chunk.
    """
    url = urlsplit(origin)
    body = b'{"by": "late"}'
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        await writer.drain()
        await handler_waiting.wait()
        await meanwhile()
        writer.write(body)
        status_line = await reader.readline()  # HTTP/1.1 410 Gone
        return int(status_line.split()[1])
    finally:
        writer.close()
        await writer.wait_closed()
