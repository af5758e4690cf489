"""What every emulator shares: the HTTP server, request/response values, routing, the Azure
error envelope, tokens, the request journal, scripted faults and control-body parsing.

Typical use in an emulator::

    router = Router(case_sensitive=False)
    router.add("GET", "/things/{name}", get_thing)  # handler(request) -> Response
    server = EmulatorServer(app, reset=reset, port=0, name="things")
    base_url = server.start()  # answers GET /_emulator/health and POST /_emulator/reset itself
"""

from emulators.common.clock import Clock, iso_utc
from emulators.common.control import ControlBodyError, describe_validation_error, parse_control_body
from emulators.common.errors import error_body, error_response
from emulators.common.faults import FaultPlan, FaultRule, apply_fault
from emulators.common.journal import REDACTED, RequestJournal
from emulators.common.messages import (
    Handler,
    HttpError,
    InvalidJsonBodyError,
    Request,
    Response,
    dropped_connection,
    empty_response,
    json_response,
    parse_json,
)
from emulators.common.routing import NoRouteError, Router
from emulators.common.server import HEALTH_PATH, RESET_PATH, EmulatorServer
from emulators.common.tokens import (
    ExpiredTokenError,
    InvalidTokenError,
    IssuedToken,
    TokenClaims,
    TokenError,
    TokenSigner,
    WrongAudienceError,
)

__all__ = [
    "HEALTH_PATH",
    "REDACTED",
    "RESET_PATH",
    "Clock",
    "ControlBodyError",
    "EmulatorServer",
    "ExpiredTokenError",
    "FaultPlan",
    "FaultRule",
    "Handler",
    "HttpError",
    "InvalidJsonBodyError",
    "InvalidTokenError",
    "IssuedToken",
    "NoRouteError",
    "Request",
    "RequestJournal",
    "Response",
    "Router",
    "TokenClaims",
    "TokenError",
    "TokenSigner",
    "WrongAudienceError",
    "apply_fault",
    "describe_validation_error",
    "dropped_connection",
    "empty_response",
    "error_body",
    "error_response",
    "iso_utc",
    "json_response",
    "parse_control_body",
    "parse_json",
]
