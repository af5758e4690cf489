"""The app's three intake paths, as a client uses them: HTTP, the storage queue, Event Grid.

Each sender returns a `Sent`: what the path accepted, and a `taken` probe that says when the app
has finished with the request. The probe lets `--follow` tell "the app attached this request
to an operation that already exists" from "the app has not read the request yet".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ServiceRequestError,
)
from azure.storage.queue import QueueClient, TextBase64EncodePolicy
from pydantic import ValidationError

from shared.names import EVENT_TYPE_PREFIX, REQUEST_QUEUE, ROUTE_PREFIX
from shared.operation import OperationView
from tools.console import ToolError, UsageError, problem_lines
from tools.local_topic import LocalTopic
from tools.request_file import Submission

REQUESTED_EVENT_TYPE = f"{EVENT_TYPE_PREFIX}ProvisioningRequested"
KEY_HEADER = "x-functions-key"
_HTTP_TIMEOUT_SECONDS = 30.0


def _never() -> bool:
    return False


@dataclass
class Sent:
    """One request handed to an intake path."""

    summary: str
    operation_id: str
    # What the app said about the operation (HTTP only; the other paths answer nothing).
    view: dict[str, Any] | None = None
    # True once the app has finished with the request (processed it, or refused it for good).
    taken: Callable[[], bool] = field(default=_never)


def send_http(submission: Submission, *, url: str, key: str | None) -> Sent:
    """POST the envelope to `/api/interactions`; a refusal becomes a ToolError with its problems."""
    endpoint = f"{url}/{ROUTE_PREFIX}/interactions"
    response = app_request("POST", endpoint, key=key, json=submission.envelope)
    if response.status_code in (200, 202):
        view = operation_view(response)
        return Sent(
            summary=json.dumps(view, indent=2),
            operation_id=str(view["operationId"]),
            view=view,
            taken=lambda: True,
        )
    raise refusal(response)


def app_request(method: str, url: str, *, key: str | None, **kwargs: Any) -> requests.Response:
    """A request to the function app; an unreachable app or a refused key is a ToolError."""
    headers = {KEY_HEADER: key} if key else {}
    try:
        response = requests.request(
            method, url, headers=headers, timeout=_HTTP_TIMEOUT_SECONDS, **kwargs
        )
    except requests.ConnectionError:
        raise ToolError(
            f"cannot reach the function app at {url}: is it running? (`make run` starts it)"
        ) from None
    except requests.RequestException as error:
        raise ToolError(f"{method} {url} failed: {error}") from None
    if response.status_code in (401, 403):
        raise UsageError(
            f"the function app refused the key ({response.status_code}): pass --key, "
            "or set FUNCTION_KEY, or DEVHOST_FUNCTION_KEY in the settings file"
        )
    return response


def operation_view(response: requests.Response) -> dict[str, Any]:
    """The operation an answer of the app describes, as the JSON of its `OperationView`; a
    ToolError when the answer is no such thing, so that it ends the tool with a message."""
    try:
        view = OperationView.model_validate_json(response.content)
    except ValidationError as error:
        problems = (
            (".".join(str(part) for part in problem["loc"]) or "body", problem["msg"])
            for problem in error.errors(include_url=False)
        )
        raise ToolError(
            f"the function app answered {response.status_code} with something other than an "
            "operation:\n" + problem_lines(problems)
        ) from None
    if view.correlation_id is None:
        # What tells this run of the operation from earlier ones; there is no following without.
        raise ToolError(
            f"the function app answered {response.status_code} with an operation that has no "
            "correlationId"
        )
    return view.model_dump(mode="json", by_alias=True)


def refusal(response: requests.Response) -> ToolError:
    """The error for a 4xx/5xx answer, listing a problem+json body's `errors`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = response.text.strip()[:500] or "(no body)"
        return ToolError(f"the function app answered {response.status_code}: {text}")
    errors = [
        (str(e.get("path", "$")), str(e.get("message", "")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    title = body.get("title") or body.get("detail") or "request refused"
    error_class = UsageError if response.status_code == 400 else ToolError
    return error_class(
        f"the function app answered {response.status_code} {title}:\n" + problem_lines(errors)
    )


def send_queue(submission: Submission, *, connection_string: str, resources: ExitStack) -> Sent:
    """Put the envelope on the intake queue, base64-encoded as the Functions runtime expects."""
    try:
        queue = QueueClient.from_connection_string(
            connection_string,
            REQUEST_QUEUE,
            message_encode_policy=TextBase64EncodePolicy(),
            # The SDK's retries wait 15 s and more; a command line should fail at once instead.
            retry_total=0,
            connection_timeout=5,
        )
    except ValueError as error:
        raise UsageError(f"the storage connection string is not usable: {error}") from None
    resources.enter_context(queue)
    try:
        with suppress(ResourceExistsError):
            queue.create_queue()
        message = queue.send_message(json.dumps(submission.envelope))
    except ServiceRequestError:
        raise ToolError(
            f"cannot reach the queue service at {queue.primary_endpoint}: is Azurite running?"
        ) from None
    except AzureError as error:
        raise ToolError(f"cannot send to queue {REQUEST_QUEUE}: {error}") from None
    return Sent(
        summary=f"Queued message {message.id} on {REQUEST_QUEUE} ({queue.primary_endpoint}).",
        operation_id=submission.operation_id,
        taken=_MessageProbe(queue, message.id, message.pop_receipt),
    )


class _MessageProbe:
    """Whether the app has deleted the message, which the Functions runtime does after success.

    Updating our own message with the receipt we hold is how to ask: it fails with 404 once
    the message is gone, and with 400 (receipt mismatch) while the app holds it. A visibility
    timeout of 0 leaves a message that nobody has read yet exactly as it was.
    """

    def __init__(self, queue: QueueClient, message_id: str, pop_receipt: str | None) -> None:
        self._queue = queue
        self._message_id = message_id
        self._pop_receipt = pop_receipt
        self._gone = False

    def __call__(self) -> bool:
        if self._gone:
            return True
        try:
            updated = self._queue.update_message(
                self._message_id, pop_receipt=self._pop_receipt, visibility_timeout=0
            )
            self._pop_receipt = updated.pop_receipt
        except HttpResponseError as error:
            self._gone = error.status_code == 404
        except AzureError:
            pass  # storage unreachable for a moment: ask again next time
        return self._gone


def topic_auth_headers(settings: dict[str, str], topic_key: str | None) -> dict[str, str]:
    """`aeg-sas-key` for a topic with local auth, else an Entra ID token from azure-identity.

    With the local stack's settings (IDENTITY_ENDPOINT) the token comes from the identity
    emulator, as the app's does; elsewhere from the developer's sign-in (`az login`, `azd`).
    """
    if topic_key:
        return {"aeg-sas-key": topic_key}
    from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

    from devhost.identity import EVENT_GRID_SCOPE, identity_environment

    try:
        if settings.get("IDENTITY_ENDPOINT") and settings.get("IDENTITY_HEADER"):
            # The sync credential (MSAL underneath) reads the environment when asked for a
            # token, so the settings stay in it until the token is here.
            with (
                identity_environment(settings),
                ManagedIdentityCredential(client_id=settings.get("AZURE_CLIENT_ID")) as credential,
            ):
                token = credential.get_token(EVENT_GRID_SCOPE).token
        else:
            with DefaultAzureCredential(exclude_interactive_browser_credential=True) as default:
                token = default.get_token(EVENT_GRID_SCOPE).token
    except ClientAuthenticationError as error:
        raise UsageError(
            f"no token for Event Grid ({error.message}): sign in (`az login`) or pass --topic-key"
        ) from None
    return {"Authorization": f"Bearer {token}"}


def send_eventgrid(
    submission: Submission,
    *,
    topic_endpoint: str,
    auth_headers: dict[str, str],
    local: LocalTopic | None,
) -> Sent:
    """Publish one ProvisioningRequested event whose data is the envelope."""
    target = submission.request.target
    event = {
        "id": str(uuid.uuid4()),
        "subject": target.subject,
        "eventType": REQUESTED_EVENT_TYPE,
        "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "dataVersion": "1.0",
        "data": submission.envelope,
    }
    try:
        response = requests.post(
            topic_endpoint,
            data=json.dumps([event]),
            headers={**auth_headers, "Content-Type": "application/json"},
            timeout=_HTTP_TIMEOUT_SECONDS,
        )
    except requests.ConnectionError:
        raise ToolError(
            f"cannot reach the topic at {topic_endpoint}: is the Event Grid emulator running?"
        ) from None
    except requests.RequestException as error:
        raise ToolError(f"cannot publish to {topic_endpoint}: {error}") from None
    if response.status_code == 401:
        raise UsageError(
            "the topic refused the credential: sign in with an identity that holds "
            f"EventGrid Data Sender on it, or pass --topic-key ({_topic_error(response)})"
        )
    if response.status_code != 200:
        raise ToolError(f"the topic answered {response.status_code}: {_topic_error(response)}")
    summary = f"Published event {event['id']} ({REQUESTED_EVENT_TYPE}) to {topic_endpoint}."
    if local is None:
        return Sent(summary=summary, operation_id=submission.operation_id)
    if not local.subscribers_of(REQUESTED_EVENT_TYPE):
        raise ToolError(
            f"{summary}\nbut no subscription on the local topic receives {REQUESTED_EVENT_TYPE}, "
            "so the app will never see it: `python scripts/run_local.py` subscribes the app"
        )

    def taken() -> bool:
        outcome = local.delivery_outcome(str(event["id"]))
        if outcome == "dropped":
            raise ToolError(
                f"the local topic gave up delivering event {event['id']} to the app: see "
                f"{local.base}/_emulator/deliveries and the host's log"
            )
        return outcome == "delivered"

    return Sent(summary=summary, operation_id=submission.operation_id, taken=taken)


def _topic_error(response: requests.Response) -> str:
    """Event Grid's `error.message`, or the raw body."""
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:500] or "(no body)"
