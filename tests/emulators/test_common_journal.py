"""The request journal: what it keeps, what it hides and how it filters."""

from __future__ import annotations

from emulators.common import REDACTED, Request, RequestJournal, dropped_connection, json_response


def request(
    method: str = "GET", path: str = "/x", body: bytes = b"", headers: dict[str, str] | None = None
) -> Request:
    """A request with lower-cased header names, as the server builds them."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    return Request(method, path, {"q": "1"}, lowered, body)


class TestRequestJournal:
    def test_entry_keeps_request_and_status(self) -> None:
        """Method, path, query, headers, JSON body and status are recorded."""
        journal = RequestJournal()
        journal.record(request("PUT", "/a", b'{"k": 1}', {"Accept": "*/*"}), json_response(201, {}))
        (entry,) = journal.entries()
        assert {k: entry[k] for k in ("method", "path", "query", "headers", "body", "status")} == {
            "method": "PUT",
            "path": "/a",
            "query": {"q": "1"},
            "headers": {"accept": "*/*"},
            "body": {"k": 1},
            "status": 201,
        }
        assert entry["time"].endswith("Z")

    def test_bearer_token_is_redacted_but_scheme_kept(self) -> None:
        """The Authorization value is hidden; the scheme stays readable."""
        journal = RequestJournal()
        journal.record(
            request(headers={"Authorization": "Bearer abc.def.ghi"}), json_response(200, {})
        )
        assert journal.entries()[0]["headers"]["authorization"] == f"Bearer {REDACTED}"

    def test_custom_secret_header_is_redacted(self) -> None:
        """Any header named at construction is hidden."""
        journal = RequestJournal(redacted_headers=["X-IDENTITY-HEADER"])
        journal.record(request(headers={"X-IDENTITY-HEADER": "s3cret"}), json_response(200, {}))
        assert journal.entries()[0]["headers"]["x-identity-header"] == REDACTED

    def test_non_json_body_is_kept_as_text(self) -> None:
        """A body that is not JSON is stored as text."""
        journal = RequestJournal()
        journal.record(request("POST", body=b"plain words"), json_response(400, {}))
        assert journal.entries()[0]["body"] == "plain words"

    def test_dropped_connection_is_recorded_without_status(self) -> None:
        """A request answered by dropping the connection has status None."""
        journal = RequestJournal()
        journal.record(request(), dropped_connection())
        assert journal.entries()[0]["status"] is None

    def test_filters_by_method_and_path_fragment_case_insensitively(self) -> None:
        """`method` and `path_contains` narrow the entries."""
        journal = RequestJournal()
        for method, path in [("PUT", "/hubs/A/x"), ("GET", "/hubs/A/x"), ("PUT", "/hubs/B/y")]:
            journal.record(request(method, path), json_response(200, {}))
        found = journal.entries(method="put", path_contains="HUBS/a")
        assert [(e["method"], e["path"]) for e in found] == [("PUT", "/hubs/A/x")]

    def test_clear_forgets_everything(self) -> None:
        """After clear() the journal is empty."""
        journal = RequestJournal()
        journal.record(request(), json_response(200, {}))
        journal.clear()
        assert journal.entries() == []
