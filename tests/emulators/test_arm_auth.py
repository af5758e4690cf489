"""Authentication on the ARM emulator: ARM's 401 codes and the audiences it accepts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from emulators.common import TokenSigner
from tests.emulators.conftest import TIMEOUT, ArmTarget, definition


def put_with(arm: ArmTarget, authorization: str | None) -> requests.Response:
    """PUT a valid definition with the given Authorization header (or none)."""
    headers = {} if authorization is None else {"Authorization": authorization}
    return requests.put(arm.interaction_url(), json=definition(), headers=headers, timeout=TIMEOUT)


class TestRefusedTokens:
    @pytest.mark.parametrize(
        ("make_header", "code"),
        [
            pytest.param(lambda arm: None, "AuthenticationFailed", id="missing"),
            pytest.param(lambda arm: "", "AuthenticationFailed", id="empty"),
            pytest.param(lambda arm: f"Basic {arm.token}", "AuthenticationFailed", id="basic"),
            pytest.param(lambda arm: "Bearer", "AuthenticationFailed", id="bearer-no-token"),
            pytest.param(
                lambda arm: "Bearer not.a.token", "InvalidAuthenticationToken", id="garbage"
            ),
            pytest.param(
                lambda arm: "Bearer caf\xe9.a.b", "InvalidAuthenticationToken", id="non-ascii"
            ),
            pytest.param(
                lambda arm: "Bearer " + TokenSigner().issue("https://management.azure.com/").token,
                "InvalidAuthenticationToken",
                id="forged",
            ),
            pytest.param(
                lambda arm: (
                    "Bearer "
                    + arm.signer.issue(
                        "https://management.azure.com/", lifetime=timedelta(seconds=-5)
                    ).token
                ),
                "ExpiredAuthenticationToken",
                id="expired",
            ),
            pytest.param(
                lambda arm: "Bearer " + arm.signer.issue("https://vault.azure.net").token,
                "InvalidAuthenticationTokenAudience",
                id="wrong-audience",
            ),
        ],
    )
    def test_refused_token_gets_arm_401(self, arm: ArmTarget, make_header, code: str) -> None:
        """Each kind of bad credential gets ARM's code, a WWW-Authenticate challenge, no write."""
        response = put_with(arm, make_header(arm))
        assert response.status_code == 401
        assert response.json()["error"]["code"] == code
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer authorization_uri=")
        assert 'error="invalid_token"' in challenge
        assert arm.get(arm.interaction_url()).status_code == 404

    def test_wrong_audience_message_names_it_and_the_allowed_ones(self, arm: ArmTarget) -> None:
        """The message says which audience was used and which would do."""
        token = arm.signer.issue("https://vault.azure.net").token
        message = put_with(arm, f"Bearer {token}").json()["error"]["message"]
        assert "'https://vault.azure.net'" in message
        assert "'https://management.azure.com/'" in message

    def test_refused_requests_are_journaled_without_the_token(self, arm: ArmTarget) -> None:
        """A 401 is recorded too, with the header redacted."""
        put_with(arm, "Bearer not.a.token")
        (entry,) = arm.journal()
        assert entry["status"] == 401
        assert entry["headers"]["authorization"] == "Bearer <redacted>"


class TestAcceptedAudiences:
    @pytest.mark.parametrize(
        "audience",
        [
            pytest.param("https://management.azure.com/", id="arm"),
            pytest.param("https://management.azure.com", id="arm-no-slash"),
            pytest.param("https://management.core.windows.net/", id="classic"),
            pytest.param("https://management.core.windows.net", id="classic-no-slash"),
            pytest.param("{origin}", id="own-origin"),
            pytest.param("{origin}/", id="own-origin-slash"),
        ],
    )
    def test_arm_audiences_are_accepted(self, arm: ArmTarget, audience: str) -> None:
        """Tokens for ARM's audiences or the emulator's own origin work."""
        token = arm.signer.issue(audience.format(origin=arm.base)).token
        assert put_with(arm, f"Bearer {token}").status_code == 202

    def test_control_api_needs_no_token(self, arm: ArmTarget) -> None:
        """`/_emulator/...` is open, as test tooling has no identity."""
        response = requests.get(arm.base + "/_emulator/requests", timeout=TIMEOUT)
        assert response.status_code == 200
