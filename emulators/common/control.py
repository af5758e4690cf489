"""Parsing of `/_emulator/...` control request bodies into pydantic models, with plain messages."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from emulators.common.messages import InvalidJsonBodyError, Request


class ControlBodyError(ValueError):
    """A control request body is not valid; the message names each offending field."""


M = TypeVar("M", bound=BaseModel)


def parse_control_body[M: BaseModel](request: Request, model: type[M]) -> M:
    """The request's JSON body validated as `model` (an empty body means `{}`)."""
    try:
        data = request.json() if request.body.strip() else {}
    except InvalidJsonBodyError as err:
        raise ControlBodyError(f"The control request body is not valid JSON: {err}.") from err
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ControlBodyError(describe_validation_error(err)) from err


def describe_validation_error(err: ValidationError) -> str:
    """One line per problem, `field.path: reason`, without pydantic's links."""
    problems = []
    for problem in err.errors(include_url=False):
        location = ".".join(str(part) for part in problem["loc"]) or "body"
        problems.append(f"{location}: {problem['msg']}")
    return "; ".join(problems)
