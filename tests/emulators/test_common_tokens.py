"""The shared token signer: what it issues and what it refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from emulators.common import (
    ExpiredTokenError,
    InvalidTokenError,
    TokenSigner,
    WrongAudienceError,
)

AUDIENCE = "https://management.azure.com/"


class FakeClock:
    """A settable clock."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class TestTokenSigner:
    def test_issued_token_verifies_with_its_claims(self) -> None:
        """A token verifies for its audience and carries the identity it was issued to."""
        clock = FakeClock(1_700_000_000)
        signer = TokenSigner(clock=clock)
        issued = signer.issue(
            AUDIENCE, lifetime=timedelta(minutes=5), object_id="oid-1", app_id="app-1"
        )
        claims = signer.verify(issued.token, audiences=[AUDIENCE])
        assert (claims.audience, claims.object_id, claims.app_id) == (AUDIENCE, "oid-1", "app-1")
        assert claims.issued_at == 1_700_000_000
        assert claims.expires_at == issued.expires_on == 1_700_000_300

    def test_tokens_issued_in_the_same_second_differ(self) -> None:
        """Two tokens with the same claims and time are still distinct strings."""
        signer = TokenSigner(clock=FakeClock(1_700_000_000))
        assert signer.issue(AUDIENCE).token != signer.issue(AUDIENCE).token

    def test_token_past_its_expiry_is_refused_as_expired(self) -> None:
        """Once the clock reaches `exp`, verification raises ExpiredTokenError with both times."""
        clock = FakeClock(1_700_000_000)
        signer = TokenSigner(clock=clock)
        token = signer.issue(AUDIENCE, lifetime=timedelta(seconds=60)).token
        clock.now += 60
        with pytest.raises(ExpiredTokenError) as caught:
            signer.verify(token, audiences=[AUDIENCE])
        assert (caught.value.expired_at, caught.value.now) == (1_700_000_060, 1_700_000_060)

    def test_token_for_another_audience_is_refused(self) -> None:
        """A token issued for Key Vault does not verify for ARM."""
        signer = TokenSigner()
        token = signer.issue("https://vault.azure.net").token
        with pytest.raises(WrongAudienceError) as caught:
            signer.verify(token, audiences=[AUDIENCE])
        assert caught.value.audience == "https://vault.azure.net"

    def test_token_from_another_signer_is_refused(self) -> None:
        """A token signed with a different secret is forged as far as this signer knows."""
        token = TokenSigner().issue(AUDIENCE).token
        with pytest.raises(InvalidTokenError, match="signature"):
            TokenSigner().verify(token, audiences=[AUDIENCE])

    def test_tampered_claims_are_refused(self) -> None:
        """Changing the payload breaks the signature."""
        signer = TokenSigner(secret=b"k" * 32)
        other = TokenSigner(secret=b"k" * 32).issue("https://vault.azure.net").token
        header, _, signature = signer.issue(AUDIENCE).token.split(".")
        forged = ".".join([header, other.split(".")[1], signature])
        with pytest.raises(InvalidTokenError):
            signer.verify(forged, audiences=[AUDIENCE, "https://vault.azure.net"])

    @pytest.mark.parametrize(
        "token",
        [
            pytest.param("not-a-jwt", id="one-part"),
            pytest.param("a.b", id="two-parts"),
            pytest.param("a.b.c.d", id="four-parts"),
            pytest.param("", id="empty"),
        ],
    )
    def test_malformed_tokens_are_refused(self, token: str) -> None:
        """Anything but three dot-separated parts is not a token."""
        with pytest.raises(InvalidTokenError):
            TokenSigner().verify(token, audiences=[AUDIENCE])

    def test_shared_secret_lets_another_signer_verify(self) -> None:
        """Signers built with the same secret verify each other's tokens."""
        token = TokenSigner(secret=b"s" * 32).issue(AUDIENCE).token
        assert TokenSigner(secret=b"s" * 32).verify(token, audiences=[AUDIENCE])
