"""ArmReply snapshots and ArmError parsing: what survives from an HTTP exchange with ARM."""

from __future__ import annotations

import json

import pytest

from shared.arm_reply import EXCERPT_CHARS, MAX_ERROR_DEPTH, ArmError, ArmReply, reply_error
from shared.errors import (
    ERROR_BUDGET_UTF16,
    MAX_CODE_CHARS,
    MAX_DETAILS,
    AppCode,
    AppError,
    ErrorObject,
    utf16_units,
)

URL = "https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.CustomerInsights/hubs/h/interactions/Visit"


def _reply(status: int, body: object = None, raw: bytes | None = None) -> ArmReply:
    payload = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
    return ArmReply.from_parts("PUT", URL, status, {}, payload)


class TestFromParts:
    def test_only_allowlisted_headers_survive_with_lowercase_names(self) -> None:
        """Authorization, cookies and unlisted headers are dropped; kept names are lower-cased."""
        reply = ArmReply.from_parts(
            "get",
            URL,
            202,
            {
                "Authorization": "Bearer secret-token",
                "Set-Cookie": "session=abc",
                "Cookie": "a=b",
                "X-Custom": "x",
                "Location": "https://management.azure.com/op",
                "Retry-After": " 7 ",
                "Azure-AsyncOperation": "https://management.azure.com/status",
                "x-ms-request-id": "rid",
                "X-Ms-Ratelimit-Remaining-Subscription-Writes": "1199",
            },
            b"",
        )
        assert reply.headers == {
            "location": "https://management.azure.com/op",
            "retry-after": "7",
            "azure-asyncoperation": "https://management.azure.com/status",
            "x-ms-request-id": "rid",
            "x-ms-ratelimit-remaining-subscription-writes": "1199",
        }
        assert reply.method == "GET"
        assert "secret-token" not in reply.model_dump_json()

    def test_header_lookup_ignores_case(self) -> None:
        """`header` finds a kept header whatever case the caller uses."""
        reply = ArmReply.from_parts("GET", URL, 200, {"Retry-After": "3"}, b"")
        assert reply.header("RETRY-AFTER") == "3"
        assert reply.header("location") is None

    def test_recorded_urls_are_redacted(self) -> None:
        """Replies and transport failures record the URL without its signature."""
        url = f"{URL}?api-version=2017-04-26&sig=SECRET"
        assert ArmReply.from_parts("GET", url, 200, {}, b"").url == f"{URL}?api-version=2017-04-26"
        assert "SECRET" not in ArmReply.transport_failure("GET", url, "timeout").url

    @pytest.mark.parametrize(
        ("raw", "body", "excerpt"),
        [
            pytest.param(b'{"a": [1, 2]}', {"a": [1, 2]}, None, id="json-object"),
            pytest.param(b"", None, None, id="empty"),
            pytest.param(b"  \r\n", None, None, id="whitespace"),
            pytest.param(b"<html>Bad gateway</html>", None, "<html>Bad gateway</html>", id="html"),
            pytest.param(b"\xff\xfe{", None, "\ufffd\ufffd{", id="not-utf8"),
        ],
    )
    def test_body_is_parsed_json_or_a_text_excerpt(
        self, raw: bytes, body: object, excerpt: str | None
    ) -> None:
        """JSON bodies are parsed; anything else is kept only as a short excerpt."""
        reply = ArmReply.from_parts("GET", URL, 200, {}, raw)
        assert (reply.body, reply.body_excerpt) == (body, excerpt)

    def test_long_text_body_is_cut_to_the_excerpt_length(self) -> None:
        """A large non-JSON body is truncated, so it cannot bloat durable history."""
        reply = ArmReply.from_parts("GET", URL, 502, {}, b"x" * 100_000)
        assert reply.body_excerpt == "x" * EXCERPT_CHARS

    def test_transport_failure_has_no_status(self) -> None:
        """A call without an HTTP response records its kind and no status."""
        reply = ArmReply.transport_failure("get", f"{URL}?sig=1", "timeout")
        assert (reply.method, reply.url, reply.status, reply.transport_error) == (
            "GET",
            URL,
            None,
            "timeout",
        )

    def test_reply_round_trips_through_json(self) -> None:
        """A reply crosses the activity boundary as JSON and comes back equal."""
        reply = ArmReply.from_parts(
            "PUT", URL, 201, {"Date": "Wed, 01 Jan 2025 00:00:00 GMT"}, b'{"properties": {}}'
        )
        again = ArmReply.model_validate(json.loads(json.dumps(reply.model_dump(mode="json"))))
        assert again == reply


class TestArmErrorFromReply:
    @pytest.mark.parametrize(
        ("status", "body", "expected"),
        [
            pytest.param(
                409,
                {"error": {"code": "Conflict", "message": "Busy", "target": "name"}},
                ArmError(code="Conflict", message="Busy", target="name", status=409),
                id="envelope",
            ),
            pytest.param(
                400,
                {"code": "InvalidName", "message": "Bad name"},
                ArmError(code="InvalidName", message="Bad name", status=400),
                id="bare-code-and-message",
            ),
            pytest.param(
                400,
                {
                    "error": {
                        "code": "BadRequest",
                        "message": "Invalid",
                        "details": [
                            {"code": "FieldMissing", "message": "fields[0].fieldType"},
                            "noise",
                        ],
                    }
                },
                ArmError(
                    code="BadRequest",
                    message="Invalid",
                    details=[
                        ArmError(code="FieldMissing", message="fields[0].fieldType", status=400)
                    ],
                    status=400,
                ),
                id="details-kept-noise-skipped",
            ),
            pytest.param(
                200,
                {"status": "Failed", "error": {"code": "QuotaExceeded", "message": "No room"}},
                ArmError(code="QuotaExceeded", message="No room", status=200),
                id="async-operation-failed-body",
            ),
            pytest.param(
                403,
                {"error": {"message": "no code given"}},
                ArmError(code="HttpError", message="no code given", status=403),
                id="envelope-without-code",
            ),
        ],
    )
    def test_arm_error_bodies_are_parsed(self, status: int, body: object, expected: ArmError):
        """ARM's envelope, a bare code/message and nested details all become an ArmError."""
        assert ArmError.from_reply(_reply(status, body)) == expected

    @pytest.mark.parametrize(
        ("status", "body"),
        [
            pytest.param(200, {"properties": {"provisioningState": "Succeeded"}}, id="resource"),
            pytest.param(202, None, id="accepted-empty"),
            pytest.param(200, {"code": "NotAnError", "message": "bare on success"}, id="bare-2xx"),
        ],
    )
    def test_success_without_envelope_has_no_error(self, status: int, body: object) -> None:
        """A 2xx reply only carries an error when it has an `error` object."""
        assert ArmError.from_reply(_reply(status, body)) is None

    @pytest.mark.parametrize(
        ("status", "body"),
        [
            pytest.param(409, {"error": {"code": "Conflict", "message": "Busy"}}, id="envelope"),
            pytest.param(400, {"code": "InvalidName", "message": "Bad name"}, id="bare"),
        ],
    )
    def test_reply_error_keeps_arms_own_error_as_arms(self, status: int, body: object) -> None:
        """What ARM sent stays an ArmError; only the app's own accounts are AppErrors."""
        error = reply_error(_reply(status, body))
        assert type(error) is ArmError
        assert error == ArmError.from_reply(_reply(status, body))


class TestReplyErrorWithoutArmError:
    """A failure ARM sent no error object for is described by the app, in an AppError."""

    def test_non_arm_failure_body_gets_a_generic_code_with_the_status(self) -> None:
        """A gateway page instead of an ARM error falls back to HttpError with the status."""
        reply = _reply(502, raw=b"<html>Bad gateway</html>")
        assert ArmError.from_reply(reply) is None
        error = reply_error(reply)
        assert isinstance(error, AppError)
        assert (error.code, error.status) == (AppCode.HTTP_ERROR, 502)
        assert "HTTP 502" in error.message
        assert "<html>Bad gateway</html>" in error.message

    def test_failure_without_body_says_so(self) -> None:
        """An empty 404 still yields an error that names the status."""
        error = reply_error(_reply(404))
        assert isinstance(error, AppError)
        assert error.message.endswith("with HTTP 404 and no error body.")

    def test_transport_failure_becomes_a_transport_error(self) -> None:
        """No HTTP response gives the TransportError code and names the failure kind."""
        error = reply_error(ArmReply.transport_failure("GET", URL, "connection"))
        assert isinstance(error, AppError)
        assert (error.code, error.status) == (AppCode.TRANSPORT_ERROR, None)
        assert "(connection)" in error.message

    def test_success_has_no_error(self) -> None:
        """A 2xx reply without an error object reports none."""
        assert reply_error(_reply(200, {"properties": {"provisioningState": "Succeeded"}})) is None


class TestNesting:
    def test_deeply_nested_details_are_cut(self) -> None:
        """Details nest at most MAX_ERROR_DEPTH levels, however deep the body goes."""
        inner: dict[str, object] = {"code": "Leaf", "message": "m"}
        for level in range(10):
            inner = {"code": f"L{level}", "message": "m", "details": [inner]}
        error: ErrorObject | None = ArmError.from_reply(_reply(400, {"error": inner}))
        depth = 0
        while error is not None and error.details:
            error, depth = error.details[0], depth + 1
        assert depth == MAX_ERROR_DEPTH


class TestErrorBounds:
    """Every error object fits the custom status budget, whatever ARM sent."""

    @staticmethod
    def nested(depth: int, width: int, text: str) -> dict[str, object]:
        error: dict[str, object] = {"code": "C" * 300, "message": text, "target": "t" * 999}
        if depth:
            error["details"] = [TestErrorBounds.nested(depth - 1, width, text)] * width
        return error

    @pytest.mark.parametrize(
        "text",
        ["x" * 50_000, '"\\' * 20_000, "\u00fc\U0001d11e" * 20_000],
        ids=["ascii", "escapes", "non-bmp"],
    )
    def test_huge_errors_are_cut_to_the_budget(self, text: str) -> None:
        error = ArmError.model_validate(self.nested(3, 20, text))
        assert utf16_units(error) <= ERROR_BUDGET_UTF16
        assert len(error.code) <= MAX_CODE_CHARS
        assert len(error.details) <= MAX_DETAILS
        assert error.message.endswith("…")

    def test_small_errors_are_kept_whole(self) -> None:
        raw = {"code": "Conflict", "message": "m", "details": [{"code": "D", "message": "d"}]}
        error = ArmError.model_validate(raw)
        assert error.model_dump(exclude_defaults=True, exclude={"details"}) == {
            "code": "Conflict",
            "message": "m",
        }
        assert [d.code for d in error.details] == ["D"]
