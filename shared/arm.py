"""ARM over HTTP: the one place that sends requests to Azure Resource Manager.

Responses are returned as `ArmReply` snapshots for the pure decisions in `shared.lro`;
only failures to reach ARM at all become `transport_failure` replies. A token is attached
only to URLs on the configured ARM endpoint.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import requests
from azure.core.exceptions import AzureError

from shared.arm_reply import ArmReply
from shared.credentials import bearer_token
from shared.endpoints import is_trusted_url, redact_url
from shared.errors import UntrustedUrlError
from shared.names import APP_NAME, APP_VERSION
from shared.operation import ArmCall
from shared.settings import get_settings

logger = logging.getLogger(__name__)

# Connect fast, but give ARM its own 60 s proxy timeout plus a margin to answer.
TIMEOUT_SECONDS = (5.0, 65.0)
USER_AGENT = f"{APP_NAME}/{APP_VERSION} python-requests/{requests.__version__}"

_local = threading.local()


def _session() -> requests.Session:
    # One pooled session per worker thread: requests.Session is not documented as
    # thread-safe, and activities may run on several threads of one process.
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        _local.session = session
    return session


def send(
    method: str,
    url: str,
    *,
    arm_endpoint: str,
    token: Callable[[], str],
    correlation_id: str,
    body: dict[str, Any] | None = None,
    log_context: str = "",
) -> ArmReply:
    """Send one ARM request and snapshot the answer.

    `token` is called only after the URL has been checked against `arm_endpoint`.
    """
    if not is_trusted_url(url, arm_endpoint):
        raise UntrustedUrlError(f"refusing to call {redact_url(url)}: not on {arm_endpoint}")
    try:
        bearer = token()
    except AzureError as error:
        # Usually passing (the identity endpoint restarting); lro retries it with backoff.
        kind = f"no token ({type(error).__name__})"
        logger.warning("%s could not get an ARM token: %s", log_context, kind)
        return ArmReply.transport_failure(method, url, kind)
    client_request_id = str(uuid.uuid4())
    headers = {
        "Authorization": f"Bearer {bearer}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        "x-ms-client-request-id": client_request_id,
        "x-ms-correlation-request-id": correlation_id,
        "x-ms-return-client-request-id": "true",
    }
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        response = _session().request(
            method,
            url,
            json=body,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            # ARM answers directly; a redirect would be a reason to stop, not to follow
            # with the token.
            allow_redirects=False,
        )
    except requests.Timeout:
        logger.warning("%s ARM %s %s timed out", log_context, method, redact_url(url))
        return ArmReply.transport_failure(method, url, "timeout")
    except requests.ConnectionError:
        logger.warning("%s ARM %s %s connection failed", log_context, method, redact_url(url))
        return ArmReply.transport_failure(method, url, "connection")
    except requests.RequestException as error:
        # A broken answer (a connection cut mid-body, say) is as transient as no answer.
        kind = f"request failed ({type(error).__name__})"
        logger.warning("%s ARM %s %s %s", log_context, method, redact_url(url), kind)
        return ArmReply.transport_failure(method, url, kind)
    logger.info(
        "%s ARM %s %s -> %d request-id=%s client-request-id=%s",
        log_context,
        method,
        redact_url(url),
        response.status_code,
        response.headers.get("x-ms-request-id", "-"),
        client_request_id,
    )
    return ArmReply.from_parts(
        method, url, response.status_code, dict(response.headers), response.content
    )


def call_arm(raw_call: dict[str, Any]) -> dict[str, Any]:
    """Run one `ArmCall` (the ARM activities' input) and return the reply as JSON."""
    call = ArmCall.model_validate(raw_call)
    settings = get_settings()
    reply = send(
        call.request.method,
        call.request.url,
        # The endpoint of this process's settings, not one captured in the input: a token
        # only ever goes where the running app is configured to send it.
        arm_endpoint=settings.arm_endpoint,
        token=lambda: bearer_token(settings.arm_scope),
        correlation_id=call.correlation_id,
        body=call.body,
        log_context=call.log_context,
    )
    return reply.model_dump(mode="json")
