"""The submit tool's inputs: the settings file and the request envelope, checked before sending."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devhost.settings import SettingsError, load_local_settings
from shared.errors import InvalidRequest
from shared.models import ProvisioningRequest
from shared.operation import operation_id_for
from shared.validation import decode_json, parse_envelope
from tools.console import UsageError, problem_lines


@dataclass(frozen=True)
class Submission:
    """The envelope as it will be sent, and what the app will make of it."""

    envelope: dict[str, Any]
    request: ProvisioningRequest

    @property
    def operation_id(self) -> str:
        """The id of the operation the app runs for this target."""
        return operation_id_for(self.request.target)

    @property
    def request_id(self) -> str:
        """The request id sent (always set: it tells this request's operation from others)."""
        return str(self.envelope["requestId"])


def read_settings(path: Path, *, required: bool) -> dict[str, str]:
    """The `Values` of a local.settings.json file; {} when it is absent and not `required`."""
    if not required and not path.exists():
        return {}
    try:
        return load_local_settings(path)
    except SettingsError as error:
        raise UsageError(f"cannot use the settings file: {error}") from None


def read_submission(path: Path, *, settings: dict[str, str], request_id: str | None) -> Submission:
    """Read and validate the envelope in `path`, as the app would with these settings.

    The request id is, in order: `request_id`, the file's `requestId`, or a new one.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    try:
        data = decode_json(raw, f"file {path}")
        if isinstance(data, dict):
            data = {**data, "requestId": request_id or data.get("requestId") or _new_request_id()}
        request = parse_envelope(
            data,
            default_subscription_id=_setting(settings, "DEFAULT_SUBSCRIPTION_ID"),
            default_resource_group=_setting(settings, "DEFAULT_RESOURCE_GROUP"),
        )
    except InvalidRequest as invalid:
        count = len(invalid.problems)
        raise UsageError(
            f"{path} is not a valid request ({count} problem{'' if count == 1 else 's'}); "
            "nothing was sent:\n"
            + problem_lines((problem.path, problem.message) for problem in invalid.problems)
        ) from None
    assert isinstance(data, dict)  # parse_envelope refuses anything else
    return Submission(envelope=data, request=request)


def _setting(settings: dict[str, str], name: str) -> str | None:
    # As in the app (shared.settings), a blank value is an unset one.
    return settings.get(name, "").strip() or None


def _new_request_id() -> str:
    return f"submit-{uuid.uuid4()}"
