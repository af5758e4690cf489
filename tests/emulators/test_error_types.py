"""The emulators' error factories return one type, `emulators.common.HttpError`."""

from __future__ import annotations

import pytest

from emulators.arm import errors as arm_errors
from emulators.common import HttpError
from emulators.eventgrid import errors as eventgrid_errors
from emulators.identity import errors as identity_errors


@pytest.mark.parametrize(
    ("error", "status"),
    [
        pytest.param(arm_errors.missing_api_version(), 400, id="arm"),
        pytest.param(eventgrid_errors.unauthorized("no key"), 401, id="eventgrid"),
        pytest.param(identity_errors.api_version_unspecified(), 400, id="identity"),
        pytest.param(identity_errors.token_service_error(404, "gone"), 404, id="identity-service"),
    ],
)
def test_every_factory_returns_an_http_error_carrying_its_response(
    error: HttpError, status: int
) -> None:
    """Handlers raise or answer with any emulator's error the same way."""
    assert isinstance(error, HttpError)
    assert error.response.status == status
    assert isinstance(error.response.json(), dict)
