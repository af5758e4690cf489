"""HTTP triggers served by a running host: routing, bindings, keys, status."""

from __future__ import annotations

import http.client
import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from devhost.bindings import http_trigger
from devhost.durable import WallClock
from devhost.keys import NO_KEYS
from tests.devhost.conftest import (
    DURABLETASK_KEY,
    EVENTGRID_KEY,
    FUNCTION_KEY,
    MASTER_KEY,
    StartHost,
    start_notify_twice,
)
from tests.devhost.support import SAMPLE_APP, EventGridSink, wait_until


class TestHttpDispatch:
    def test_request_parts_reach_the_function(self, start_host: StartHost) -> None:
        """Route parameter, query, headers, method and body arrive in func.HttpRequest."""
        host = start_host().host
        response = requests.post(
            f"{host.url}/api/hello/ada",
            params={"code": FUNCTION_KEY, "lang": "en"},
            headers={"x-sample": "yes"},
            data=b"payload",
            timeout=10,
        )
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["x-ok"] == "1"
        assert response.json() | {"pid": None} == {
            "pid": None,
            "name": "ada",
            "method": "POST",
            "query": {"code": FUNCTION_KEY, "lang": "en"},
            "header": "yes",
            "body": "payload",
        }

    def test_repeated_query_parameters_are_joined_with_commas(self, start_host: StartHost) -> None:
        """`?lang=en&lang=fr` arrives as "en,fr", as the Functions host joins StringValues."""
        host = start_host().host
        response = requests.get(
            f"{host.url}/api/hello/ada",
            params=[("code", FUNCTION_KEY), ("lang", "en"), ("lang", "fr")],
            timeout=10,
        )
        assert response.json()["query"] == {"code": FUNCTION_KEY, "lang": "en,fr"}

    def test_method_not_accepted_is_404(self, start_host: StartHost) -> None:
        """A method the function does not list finds no route, as in the Functions host."""
        host = start_host().host
        response = requests.delete(
            f"{host.url}/api/hello/ada", params={"code": FUNCTION_KEY}, timeout=10
        )
        assert response.status_code == 404
        assert "no function serves DELETE /api/hello/ada" in response.text

    def test_unknown_route_is_404(self, start_host: StartHost) -> None:
        """Paths no function serves are 404, outside and inside the prefix."""
        host = start_host().host
        assert requests.get(f"{host.url}/api/nothing", timeout=10).status_code == 404
        assert requests.get(f"{host.url}/ping", timeout=10).status_code == 404

    def test_route_prefix_comes_from_host_json(self, start_host: StartHost, tmp_path: Path) -> None:
        """A routePrefix in host.json moves every HTTP function under it."""
        app_dir = tmp_path / "app"
        shutil.copytree(SAMPLE_APP, app_dir, ignore=shutil.ignore_patterns("__pycache__"))
        document = json.loads((app_dir / "host.json").read_text())
        document["extensions"]["http"]["routePrefix"] = "v1"
        (app_dir / "host.json").write_text(json.dumps(document))
        host = start_host(app_dir=app_dir).host
        assert requests.get(f"{host.url}/v1/ping", timeout=10).text == "pong"
        assert requests.get(f"{host.url}/api/ping", timeout=10).status_code == 404

    def test_function_failure_is_a_bare_500(self, start_host: StartHost) -> None:
        """A function raising gives 500 without a traceback on the wire."""
        host = start_host().host
        # The starter fails: its body is not JSON, so req.get_json() raises.
        response = requests.post(
            f"{host.url}/api/orchestrators/notify_twice",
            params={"code": FUNCTION_KEY},
            data=b"not json",
            timeout=10,
        )
        assert response.status_code == 500
        assert response.text == ""

    def test_invoke_runs_the_function_in_the_worker(self, start_host: StartHost) -> None:
        """host.invoke sends the invocation to the worker process and returns its RpcHttp."""
        thread = start_host(start_listeners=False)
        trigger = http_trigger(
            method="GET",
            url="http://localhost/api/hello/bo?x=1",
            headers=[],
            query=[("x", "1")],
            route_params={"name": "bo"},
            body=b"",
            content_length=None,
        )
        returned = thread.call(thread.host.invoke("hello", trigger))
        assert returned is not None
        echo = json.loads(returned.http.body.bytes)
        assert echo["query"] == {"x": "1"}
        assert echo["pid"] == thread.host.worker.pid != os.getpid()

    def test_empty_query_values_are_dropped(self, start_host: StartHost) -> None:
        """The host passes no query parameter whose value is empty (ToRpcHttp)."""
        host = start_host().host
        response = requests.get(f"{host.url}/api/hello/x?a=&b=2&code={FUNCTION_KEY}", timeout=10)
        assert response.json()["query"] == {"b": "2", "code": FUNCTION_KEY}

    def test_repeated_headers_are_joined_with_commas(self, start_host: StartHost) -> None:
        """Header names reach the worker lowercased, repeated values joined with ","."""
        host = start_host().host
        connection = http.client.HTTPConnection("127.0.0.1", int(host.url.rsplit(":", 1)[1]))
        connection.putrequest("GET", "/api/hello/x")
        for name, value in [
            ("X-Sample", "one"),
            ("x-sample", "two"),
            ("x-functions-key", FUNCTION_KEY),
        ]:
            connection.putheader(name, value)
        connection.endheaders()
        echo = json.loads(connection.getresponse().read())
        connection.close()
        assert echo["header"] == "one,two"

    def test_body_is_passed_only_with_a_content_length(self, start_host: StartHost) -> None:
        """A chunked body (no Content-Length) reaches the function empty, as in Azure."""
        host = start_host().host
        url = f"{host.url}/api/hello/x?code={FUNCTION_KEY}"
        sized = requests.post(url, data=b"sized", timeout=10).json()
        chunked = requests.post(url, data=iter([b"chun", b"ked"]), timeout=10).json()
        assert sized["body"] == "sized"
        assert chunked["body"] == ""

    def test_host_status_reports_running(self, start_host: StartHost) -> None:
        """GET /admin/host/status answers Running once the host is up."""
        host = start_host().host
        status = requests.get(
            f"{host.url}/admin/host/status", params={"code": MASTER_KEY}, timeout=10
        ).json()
        assert status["state"] == "Running"

    def test_host_status_reports_error_once_the_scheduler_stops(
        self, start_host: StartHost, topic: EventGridSink
    ) -> None:
        """A dead durable scheduler turns the status to Error, with the reason."""
        host = start_host(clock=ClockThatBreaks(time_scale=1000.0)).host
        started = start_notify_twice(host.url, "broken", 60)
        assert started.status_code == 202

        def error_status() -> dict[str, Any]:
            response = requests.get(
                f"{host.url}/admin/host/status", headers={"x-functions-key": MASTER_KEY}, timeout=10
            )
            status: dict[str, Any] = response.json()
            return status if status["state"] != "Running" else {}

        status = wait_until(error_status, what="the status to leave Running")
        assert status["state"] == "Error"
        assert status["errors"] == ["durable engine stopped: RuntimeError('the clock broke')"]


class ClockThatBreaks(WallClock):
    """A wall clock that fails when the scheduler asks how long to wait for a timer."""

    def real_seconds_until(self, when: datetime) -> float:
        raise RuntimeError("the clock broke")


# Each kind of route, and a request that succeeds on it once its key is accepted.
KEYED_ROUTES: dict[str, tuple[str, str, dict[str, str]]] = {
    "function": ("GET", "/api/hello/x", {}),
    "admin-function": ("GET", "/api/restricted", {}),
    "anonymous": ("GET", "/api/ping", {}),
    "host-status": ("GET", "/admin/host/status", {}),
    "eventgrid": (
        "OPTIONS",
        "/runtime/webhooks/eventgrid?functionName=on_event",
        {"WebHook-Request-Origin": "eventgrid.azure.net"},
    ),
    "durable": ("GET", "/runtime/webhooks/durabletask/instances/", {}),
}
PRESENTED = {
    "none": None,
    "wrong": "not-a-key",
    "function": FUNCTION_KEY,
    "master": MASTER_KEY,
    "eventgrid": EVENTGRID_KEY,
    "durabletask": DURABLETASK_KEY,
}
# What the Functions host answers for each route and key (see devhost/keys.py for sources):
# HTTP functions refuse with 401 only; host routes with 401 for no or an unknown key, 403 for
# a known key of the wrong kind.
EXPECTED_STATUS = {
    "function": {"none": 401, "wrong": 401, "function": 200, "master": 200,
                 "eventgrid": 401, "durabletask": 401},
    "admin-function": {"none": 401, "wrong": 401, "function": 401, "master": 200,
                       "eventgrid": 401, "durabletask": 401},
    "anonymous": {"none": 200, "wrong": 200, "function": 200, "master": 200,
                  "eventgrid": 200, "durabletask": 200},
    "host-status": {"none": 401, "wrong": 401, "function": 403, "master": 200,
                    "eventgrid": 403, "durabletask": 403},
    "eventgrid": {"none": 401, "wrong": 401, "function": 403, "master": 200,
                  "eventgrid": 200, "durabletask": 403},
    "durable": {"none": 401, "wrong": 401, "function": 403, "master": 200,
                "eventgrid": 403, "durabletask": 200},
}  # fmt: skip


def call(
    base_url: str, route: str, *, code: str | None = None, header: str | None = None
) -> requests.Response:
    """Send the request of `KEYED_ROUTES[route]` with the key as `code` and/or header."""
    method, path, route_headers = KEYED_ROUTES[route]
    headers = route_headers if header is None else {**route_headers, "x-functions-key": header}
    params = {} if code is None else {"code": code}
    return requests.request(method, f"{base_url}{path}", params=params, headers=headers, timeout=10)


class TestHostKeys:
    @pytest.mark.parametrize("way", ["code", "header"])
    def test_each_route_takes_the_key_the_functions_host_wants(
        self, start_host: StartHost, way: str
    ) -> None:
        """Every kind of route against every kind of key, as `code` and as the header."""
        host = start_host().host
        answered = {
            route: {
                name: call(host.url, route, **{way: key}).status_code
                for name, key in PRESENTED.items()
            }
            for route in KEYED_ROUTES
        }
        assert answered == EXPECTED_STATUS

    def test_refusals_have_an_empty_body(self, start_host: StartHost) -> None:
        """401 and 403 carry no body, as from the host's authorization."""
        host = start_host().host
        unauthorized = call(host.url, "function")
        forbidden = call(host.url, "host-status", code=FUNCTION_KEY)
        assert (unauthorized.status_code, unauthorized.text) == (401, "")
        assert (forbidden.status_code, forbidden.text) == (403, "")

    def test_header_beats_code(self, start_host: StartHost) -> None:
        """With both, the header is the key the request presents; `code` is not looked at."""
        host = start_host().host
        assert call(host.url, "function", code=FUNCTION_KEY, header="wrong").status_code == 401
        assert call(host.url, "function", code="wrong", header=FUNCTION_KEY).status_code == 200
        assert (
            call(host.url, "host-status", code=MASTER_KEY, header=FUNCTION_KEY).status_code == 403
        )

    def test_keys_from_settings_are_enforced(
        self, start_host: StartHost, sample_settings: dict[str, str]
    ) -> None:
        """The DEVHOST_*_KEY settings turn key checks on; a kind left unset matches nothing."""
        settings = {
            **sample_settings,
            "DEVHOST_FUNCTION_KEY": "fn-from-settings",
            "DEVHOST_MASTER_KEY": "master-from-settings",
        }
        host = start_host(settings=settings, keys=NO_KEYS).host
        assert call(host.url, "function").status_code == 401
        assert call(host.url, "function", code="fn-from-settings").status_code == 200
        assert call(host.url, "host-status", code="master-from-settings").status_code == 200
        assert call(host.url, "eventgrid", code=EVENTGRID_KEY).status_code == 401
        assert call(host.url, "eventgrid", code="master-from-settings").status_code == 200

    def test_no_key_configured_leaves_every_route_open(self, start_host: StartHost) -> None:
        """Without any configured key nothing asks for one, as under Core Tools."""
        host = start_host(keys=NO_KEYS).host
        answered = {route: call(host.url, route).status_code for route in KEYED_ROUTES}
        assert answered == dict.fromkeys(KEYED_ROUTES, 200)
