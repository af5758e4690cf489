"""The shared HTTP server over real loopback HTTP: control basics, errors, drops, bodies."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator

import pytest
import requests

from emulators.common import (
    EmulatorServer,
    HttpError,
    Request,
    Response,
    dropped_connection,
    error_response,
    json_response,
)
from tests.emulators.conftest import running

TIMEOUT = 10


class RecordingApp:
    """An app that echoes what it received, or misbehaves on chosen paths."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.resets = 0

    def __call__(self, request: Request) -> Response:
        self.requests.append(request)
        if request.path == "/refuse":
            raise HttpError(error_response(409, "Conflict", "refused on purpose"))
        if request.path == "/crash":
            raise RuntimeError("secret internal detail")
        if request.path == "/drop":
            return dropped_connection()
        return json_response(
            200,
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "body": request.body.decode(),
                "base_url": request.base_url,
            },
        )

    def reset(self) -> None:
        self.resets += 1


@pytest.fixture(name="app")
def _app() -> RecordingApp:
    return RecordingApp()


@pytest.fixture(name="server")
def _server(app: RecordingApp) -> Iterator[EmulatorServer]:
    yield from running(EmulatorServer(app, reset=app.reset, name="test"))


class TestEmulatorServer:
    def test_health_answers_ok_without_reaching_the_app(
        self, server: EmulatorServer, app: RecordingApp
    ) -> None:
        """`GET /_emulator/health` is answered by the server itself."""
        response = requests.get(server.url + "/_emulator/health", timeout=TIMEOUT)
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
        assert app.requests == []

    def test_reset_calls_the_reset_callback(
        self, server: EmulatorServer, app: RecordingApp
    ) -> None:
        """`POST /_emulator/reset` runs the emulator's reset."""
        response = requests.post(server.url + "/_emulator/reset", timeout=TIMEOUT)
        assert response.status_code == 200
        assert app.resets == 1

    def test_request_reaches_the_app_as_a_plain_value(self, server: EmulatorServer) -> None:
        """Method, decoded path, first query values, body and base URL arrive intact."""
        response = requests.put(
            server.url + "/a%20b/c?x=1&x=2&y=",
            data=b'{"k": 1}',
            timeout=TIMEOUT,
        )
        assert response.json() == {
            "method": "PUT",
            "path": "/a b/c",
            "query": {"x": "1", "y": ""},
            "body": '{"k": 1}',
            "base_url": server.url,
        }

    @pytest.mark.parametrize(
        ("host", "expected"),
        [
            pytest.param("localhost:10100", "http://localhost:10100", id="named-host"),
            pytest.param("[::1]:8080", "http://[::1]:8080", id="ipv6"),
            pytest.param("bad host/x", None, id="malformed-falls-back"),
        ],
    )
    def test_base_url_is_the_origin_the_client_addressed(
        self, server: EmulatorServer, host: str, expected: str | None
    ) -> None:
        """URLs built from base_url stay on the host the client used; junk Host is ignored."""
        response = requests.get(server.url + "/echo", headers={"Host": host}, timeout=TIMEOUT)
        assert response.json()["base_url"] == (expected or server.url)

    def test_chunked_request_body_is_reassembled(self, server: EmulatorServer) -> None:
        """A body sent with chunked transfer encoding reaches the app whole."""
        response = requests.post(
            server.url + "/echo", data=iter([b"first,", b"second"]), timeout=TIMEOUT
        )
        assert response.json()["body"] == "first,second"

    def test_http_error_from_the_app_becomes_its_response(self, server: EmulatorServer) -> None:
        """Raising HttpError answers with the response it carries."""
        response = requests.get(server.url + "/refuse", timeout=TIMEOUT)
        assert response.status_code == 409
        assert response.json() == {"error": {"code": "Conflict", "message": "refused on purpose"}}

    def test_unexpected_exception_is_a_500_envelope_without_details(
        self, server: EmulatorServer
    ) -> None:
        """A crash answers 500 in the Azure envelope and leaks neither traceback nor message."""
        response = requests.get(server.url + "/crash", timeout=TIMEOUT)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "InternalServerError"
        assert "secret internal detail" not in response.text
        assert "Traceback" not in response.text

    def test_dropped_response_closes_the_connection_without_answer(
        self, server: EmulatorServer
    ) -> None:
        """A dropped connection surfaces in `requests` as ConnectionError."""
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/drop", timeout=TIMEOUT)

    def test_head_request_gets_headers_but_no_body(self, server: EmulatorServer) -> None:
        """HEAD answers with the GET's status and length but sends no body bytes."""
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
        connection.request("HEAD", "/echo")
        response = connection.getresponse()
        assert response.status == 200
        assert int(response.headers["Content-Length"]) > 0
        assert response.read() == b""
        connection.close()

    def test_busy_port_gives_a_clear_error(self, server: EmulatorServer) -> None:
        """Starting on a port in use names the emulator and the address."""
        port = int(server.url.rsplit(":", 1)[1])
        clash = EmulatorServer(RecordingApp(), reset=lambda: None, port=port, name="clash")
        with pytest.raises(OSError, match=rf"clash emulator cannot listen on 127\.0\.0\.1:{port}"):
            clash.start()

    def test_stop_releases_the_port(self, app: RecordingApp) -> None:
        """After stop() the port can be bound again."""
        server = EmulatorServer(app, reset=app.reset)
        port = int(server.start().rsplit(":", 1)[1])
        server.stop()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))

    def test_url_before_start_is_an_error(self, app: RecordingApp) -> None:
        """Asking for the URL of a server that never started says so."""
        with pytest.raises(RuntimeError, match="has not been started"):
            _ = EmulatorServer(app, reset=app.reset, name="idle").url


@pytest.fixture(name="kept_alive")
def _kept_alive(server: EmulatorServer) -> Iterator[http.client.HTTPConnection]:
    """A connection that has had one answer and stays open, as a client's pool keeps it."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT)
    connection.request("GET", "/echo")
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    yield connection
    connection.close()


class TestStop:
    def test_stop_closes_idle_keep_alive_connections(
        self, server: EmulatorServer, kept_alive: http.client.HTTPConnection
    ) -> None:
        """A client's open keep-alive connection is closed by stop(), not left to a thread
        that would go on serving a stopped emulator."""
        server.stop()

        assert kept_alive.sock is not None
        kept_alive.sock.settimeout(2)
        assert kept_alive.sock.recv(1) == b""

    def test_request_on_an_old_connection_after_stop_gets_no_answer_or_traceback(
        self,
        server: EmulatorServer,
        app: RecordingApp,
        kept_alive: http.client.HTTPConnection,
        capfd: pytest.CaptureFixture[str],
    ) -> None:
        """After stop() a reused connection is refused quietly and the app is not called."""
        server.stop()

        with pytest.raises((http.client.HTTPException, ConnectionError)):
            _get_echo(kept_alive)

        assert len(app.requests) == 1
        assert "Traceback" not in capfd.readouterr().err


def _get_echo(connection: http.client.HTTPConnection) -> http.client.HTTPResponse:
    connection.request("GET", "/echo")
    return connection.getresponse()
