"""The two kinds of error an operation reports: ARM's own and the app's, one wire shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.arm_reply import ArmError
from shared.errors import AppCode, AppError, ErrorObject, IdentifierReused, InvalidRequest
from shared.lro import Finish, Outcome
from shared.problems import Problem


def test_arm_and_app_errors_are_separate_types_of_one_shape() -> None:
    """Neither is the other, so code reading an ArmError never sees one the app wrote."""
    assert not issubclass(AppError, ArmError)
    assert not issubclass(ArmError, AppError)
    assert set(AppError.model_fields) == set(ArmError.model_fields) == set(ErrorObject.model_fields)


def test_an_app_error_takes_only_the_apps_codes() -> None:
    """An ARM code cannot be passed off as the app's."""
    with pytest.raises(ValidationError):
        AppError(code="Conflict", message="m")
    assert AppError(code="DeadlineExceeded", message="m").code is AppCode.DEADLINE_EXCEEDED


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(AppError(code=AppCode.UNTRUSTED_POLL_URL, message="m"), id="app"),
        pytest.param(
            ArmError(
                code="BadRequest",
                message="m",
                details=[ArmError(code="FieldMissing", message="d", status=400)],
                status=400,
            ),
            id="arm-with-details",
        ),
    ],
)
def test_a_stored_error_reads_back_as_the_type_it_was_written_as(
    error: ArmError | AppError,
) -> None:
    """The finish travels through durable JSON; its error keeps its kind."""
    finish = Finish(outcome=Outcome.FAILED, provisioning_state=None, error=error)
    again = Finish.model_validate(json.loads(json.dumps(finish.model_dump(mode="json"))))
    assert type(again.error) is type(error)
    assert again == finish


def test_a_reused_identifier_is_an_invalid_request_of_its_own_kind() -> None:
    """Queue and Event Grid intake dead-letter it as invalid; HTTP tells it apart (409)."""
    reused = IdentifierReused([Problem(path="$.requestId", message="m", code="request_id_reused")])
    assert isinstance(reused, InvalidRequest)
    assert not isinstance(InvalidRequest(reused.problems), IdentifierReused)


def test_every_app_code_is_in_the_readme() -> None:
    """A caller reading an error finds what the app's own code means."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert [code.value for code in AppCode if f"`{code.value}`" not in readme] == []
