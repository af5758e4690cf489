"""A small HTTP/1.1 server on loopback that runs one emulator's handler in a daemon thread.

Every emulator answers `GET /_emulator/health` and `POST /_emulator/reset` here, before its
own handler sees the request, so the control basics behave the same everywhere.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from emulators.common.errors import error_response
from emulators.common.messages import Handler, HttpError, Request, Response, json_response

_LOG = logging.getLogger(__name__)
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")

HEALTH_PATH = "/_emulator/health"
RESET_PATH = "/_emulator/reset"

# Keep-alive sockets left idle this long are closed, so stopped clients do not pin threads.
_IDLE_TIMEOUT_SECONDS = 60
# How often the serving loop checks for shutdown; it bounds how long stop() takes.
_SHUTDOWN_POLL_SECONDS = 0.02


class _TrackingServer(ThreadingHTTPServer):
    """Remembers its open connections, so that stopping can close the idle keep-alive ones
    whose handler threads would otherwise go on serving after `stop()`."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (or a connection stop() shut down) is not a server fault;
        # socketserver's default would print a traceback for it.
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            _LOG.debug("connection from %s ended: %s", client_address, error)
            return
        _LOG.exception("unexpected error serving %s", client_address)

    def close_connections(self) -> None:
        """Shut every open connection down; its handler thread then reads EOF and ends."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class EmulatorServer:
    """Serves `app` on `host:port` (port 0 picks a free one) until `stop()`.

    `reset` is called for `POST /_emulator/reset`. A handler may raise `HttpError` to answer
    with its response; any other exception becomes a 500 with the Azure error envelope and is
    logged, never a traceback on the wire.
    """

    def __init__(
        self,
        app: Handler,
        *,
        reset: Callable[[], None],
        port: int = 0,
        host: str = "127.0.0.1",
        name: str = "emulator",
    ) -> None:
        self._app = app
        self._reset = reset
        self._port = port
        self._host = host
        self._name = name
        self._server: _TrackingServer | None = None
        self._thread: threading.Thread | None = None
        # Kept from start() on: handler threads still finishing after stop() build URLs from it.
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. `http://127.0.0.1:10100`; only valid once started."""
        if self._url is None:
            raise RuntimeError(f"the {self._name} emulator has not been started")
        return self._url

    @property
    def serving(self) -> bool:
        """Whether the server is started and not stopped."""
        return self._server is not None

    def start(self) -> str:
        """Bind, serve in a daemon thread and return the base URL."""
        if self._server is not None:
            return self.url
        try:
            server = _TrackingServer((self._host, self._port), self._handler_class())
        except OSError as err:
            raise OSError(
                err.errno,
                f"the {self._name} emulator cannot listen on {self._host}:{self._port}: "
                f"{err.strerror}",
            ) from err
        host, port = server.server_address[:2]
        self._url = f"http://{host!s}:{port}"
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
            name=f"{self._name}-emulator",
            daemon=True,
        )
        self._thread.start()
        _LOG.info("%s emulator listening on %s", self._name, self.url)
        return self.url

    def stop(self) -> None:
        """Stop serving, close open connections and release the port; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def answer(self, request: Request) -> Response:
        """The response for one request: control basics first, then the app."""
        if request.path == HEALTH_PATH and request.method == "GET":
            return json_response(200, {"status": "ok"})
        if request.path == RESET_PATH and request.method == "POST":
            self._reset()
            return json_response(200, {"status": "reset"})
        try:
            return self._app(request)
        except HttpError as err:
            return err.response
        except Exception:
            _LOG.exception("%s emulator failed on %s %s", self._name, request.method, request.path)
            return error_response(
                500, "InternalServerError", f"The {self._name} emulator failed unexpectedly."
            )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class _RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = _IDLE_TIMEOUT_SECONDS

            def _serve(self) -> None:
                if not emulator.serving:
                    # A request that slipped in while stopping gets no answer, as from a
                    # service that has gone away; the app behind it is not called any more.
                    self.close_connection = True
                    return
                try:
                    body = _read_body(self)
                except ValueError as err:
                    self._write(error_response(400, "InvalidRequest", str(err)))
                    return
                split = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=unquote(split.path),
                    query=_first_values(split.query),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=body,
                    base_url=_origin(self.headers.get("Host"), emulator.url),
                )
                response = emulator.answer(request)
                try:
                    self._write(response)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (e.g. its timeout beat a scripted delay); nobody to tell.
                    self.close_connection = True

            def _write(self, response: Response) -> None:
                if response.drop:
                    self.close_connection = True
                    return
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                send_body = self.command != "HEAD" and response.status not in (204, 304)
                if send_body or response.body:
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(response.body)

            def log_message(self, format: str, *args: object) -> None:
                _LOG.debug("%s emulator: " + format, emulator._name, *args)

            # http.server dispatches on these names; one entry point serves every method.
            do_GET = do_PUT = do_POST = do_DELETE = _serve  # noqa: N815
            do_PATCH = do_HEAD = do_OPTIONS = _serve  # noqa: N815

        return _RequestHandler


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        return _read_chunked(handler)
    length = handler.headers.get("Content-Length")
    if length is None:
        return b""
    if not length.isdigit():
        raise ValueError(f"Content-Length '{length}' is not a number.")
    return handler.rfile.read(int(length))


def _read_chunked(handler: BaseHTTPRequestHandler) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = handler.rfile.readline().split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError as err:
            raise ValueError("The chunked request body is malformed.") from err
        if size == 0:
            # Skip trailers up to the blank line that ends the message.
            while handler.rfile.readline().strip():
                pass
            return b"".join(chunks)
        chunks.append(handler.rfile.read(size))
        handler.rfile.readline()


def _origin(host: str | None, fallback: str) -> str:
    """The origin the client addressed, so URLs handed back (Location) stay on that host."""
    if host and _HOST.fullmatch(host):
        return f"http://{host}"
    return fallback


def _first_values(query: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(name, value)
    return values
