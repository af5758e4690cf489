"""Problem reporting: the exception, the problem+json body and the dead-letter record."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shared.errors import InvalidRequest
from shared.problems import (
    INVALID_REQUEST_TYPE,
    MAX_LISTED_PROBLEMS,
    MAX_PROBLEM_TEXT,
    PROBLEM_JSON,
    Problem,
    dead_letter_record,
    problem_details,
)
from shared.validation import parse_envelope

HUB = Problem(path="$.target.hub", message="must be 2 to 64 letters", code="invalid_hub_name")
FIELD_TYPE = Problem(
    path="$.definition.fields[1].fieldType", message="must be one of", code="unknown_field_type"
)


def numbered(count: int) -> list[Problem]:
    return [Problem(path=f"$.p{index}", message=f"m{index}", code="c") for index in range(count)]


class TestProblem:
    def test_is_immutable(self) -> None:
        """A problem cannot be changed after it is found."""
        with pytest.raises(ValidationError):
            HUB.path = "$"  # type: ignore[misc]

    def test_media_type_is_problem_json(self) -> None:
        """The content type for problem bodies is RFC 9457's."""
        assert PROBLEM_JSON == "application/problem+json"


class TestInvalidRequest:
    def test_carries_every_problem_in_order(self) -> None:
        """The exception keeps all problems, in the order given."""
        error = InvalidRequest(iter([HUB, FIELD_TYPE]))
        assert error.problems == (HUB, FIELD_TYPE)

    def test_message_summarises_the_problems(self) -> None:
        """str() of the exception names the count and each problem's path and message."""
        assert str(InvalidRequest([HUB, FIELD_TYPE])) == (
            "The request has 2 problems: $.target.hub: must be 2 to 64 letters; "
            "$.definition.fields[1].fieldType: must be one of"
        )


class TestProblemDetails:
    def test_body_has_the_rfc_9457_members_and_every_error(self) -> None:
        """The body carries type, title, status, detail and one entry per problem."""
        body = problem_details([HUB, FIELD_TYPE], title="The request is invalid")
        assert body == {
            "type": INVALID_REQUEST_TYPE,
            "title": "The request is invalid",
            "status": 400,
            "detail": str(InvalidRequest([HUB, FIELD_TYPE])),
            "errors": [
                {
                    "path": "$.target.hub",
                    "message": "must be 2 to 64 letters",
                    "code": "invalid_hub_name",
                },
                {
                    "path": "$.definition.fields[1].fieldType",
                    "message": "must be one of",
                    "code": "unknown_field_type",
                },
            ],
            "errorCount": 2,
        }
        assert json.loads(json.dumps(body)) == body

    def test_instance_and_status_are_included_when_given(self) -> None:
        """A caller-chosen status and instance URI appear in the body."""
        body = problem_details([HUB], title="t", status=422, instance="/api/interactions")
        assert (body["status"], body["instance"]) == (422, "/api/interactions")

    def test_detail_names_three_problems_and_counts_the_rest(self) -> None:
        """Detail stays short for a long list; errors lists a short one in full."""
        body = problem_details(numbered(5), title="t")
        assert body["detail"] == (
            "The request has 5 problems: $.p0: m0; $.p1: m1; $.p2: m2; and 2 more"
        )
        assert len(body["errors"]) == 5

    def test_one_problem_is_singular(self) -> None:
        """A single problem reads as "1 problem"."""
        assert problem_details([HUB], title="t")["detail"] == (
            "The request has 1 problem: $.target.hub: must be 2 to 64 letters"
        )

    def test_built_from_a_failed_validation(self) -> None:
        """The problems raised by validation turn straight into the body's errors."""
        with pytest.raises(InvalidRequest) as caught:
            parse_envelope(
                {"target": {"hub": "h"}, "definition": {"fields": []}},
                default_subscription_id=None,
                default_resource_group="rg",
            )
        errors = problem_details(caught.value.problems, title="t")["errors"]
        assert [error["path"] for error in errors] == [
            "$.target.subscriptionId",
            "$.target.hub",
            "$.target.interactionName",
            "$.definition.fields",
        ]


class TestDeadLetterRecord:
    def test_keeps_the_original_text_and_the_reasons(self) -> None:
        """A dead letter holds the message exactly as received, its source and every reason."""
        raw = '{"target": {"hub": "h"}}'
        assert dead_letter_record(raw, [HUB], source="queue:interaction-requests") == {
            "schemaVersion": 1,
            "source": "queue:interaction-requests",
            "message": raw,
            "reasons": [
                {
                    "path": "$.target.hub",
                    "message": "must be 2 to 64 letters",
                    "code": "invalid_hub_name",
                }
            ],
        }


class TestBoundedProblems:
    def test_errors_lists_the_first_problems_and_counts_them_all(self) -> None:
        """Past MAX_LISTED_PROBLEMS the list stops, in order, and errorCount keeps the total."""
        body = problem_details(numbered(MAX_LISTED_PROBLEMS + 7), title="t")
        assert [error["path"] for error in body["errors"]] == [
            f"$.p{index}" for index in range(MAX_LISTED_PROBLEMS)
        ]
        assert body["errorCount"] == MAX_LISTED_PROBLEMS + 7
        assert body["detail"].endswith(f"and {MAX_LISTED_PROBLEMS + 4} more")

    def test_echoed_paths_and_messages_are_cut_so_the_body_stays_small(self) -> None:
        """A 100 KB key in a path or message is cut; the whole body stays bounded."""
        huge = "k" * 100_000
        problems = [Problem(path=f"$['{huge}']", message=huge, code="unknown_field")] * 1_000
        body = problem_details(problems, title="t")
        assert len(json.dumps(body)) < MAX_LISTED_PROBLEMS * (2 * MAX_PROBLEM_TEXT + 100) + 2_000
        assert body["errors"][0]["path"].endswith("…")
        assert len(body["errors"][0]["message"]) == MAX_PROBLEM_TEXT
