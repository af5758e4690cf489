"""Endpoint trust: the ARM origin rule and the URLs made safe to show."""

from __future__ import annotations

import re

import pytest

from shared.endpoints import arm_origin, describe_origin, is_trusted_url, redact_url

ARM = "https://management.azure.com"
LOCATION = (
    f"{ARM}/subscriptions/sub1/providers/Microsoft.CustomerInsights/locations/westus"
    "/operationResults/op1?api-version=2017-04-26"
)


class TestIsTrustedUrl:
    @pytest.mark.parametrize(
        ("url", "trusted"),
        [
            pytest.param(LOCATION, True, id="same-origin"),
            pytest.param("https://MANAGEMENT.azure.com:443/x", True, id="case-and-default-port"),
            pytest.param("https://management.azure.com.evil.example/x", False, id="suffix-host"),
            pytest.param("https://management.azure.com:444/x", False, id="other-port"),
            pytest.param("http://management.azure.com/x", False, id="other-scheme"),
            pytest.param("https://u:p@management.azure.com/x", False, id="userinfo"),
            pytest.param("ftp://management.azure.com/x", False, id="ftp"),
            pytest.param("/relative/path", False, id="relative"),
            pytest.param("https://management.azure.com:99999/x", False, id="bad-port"),
            pytest.param("https://management.azure.com/x y", False, id="whitespace"),
            pytest.param("https://management.azure.com/\x00", False, id="control-character"),
            pytest.param("not a url", False, id="garbage"),
        ],
    )
    def test_is_trusted_url_compares_scheme_host_and_port(self, url: str, trusted: bool) -> None:
        """Only URLs with the endpoint's exact scheme, host and port are trusted."""
        assert is_trusted_url(url, ARM) is trusted

    def test_nothing_is_trusted_against_a_garbage_endpoint(self) -> None:
        """A malformed endpoint trusts no URL, not even an equally malformed one."""
        assert is_trusted_url("not a url", "not a url") is False


class TestArmOrigin:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            pytest.param(f" {ARM}/ \n", ARM, id="stripped-and-slash-dropped"),
            pytest.param("HTTPS://management.azure.com", ARM, id="scheme-lowered"),
            pytest.param("http://[::1]:8080", "http://[::1]:8080", id="ipv6-with-port"),
        ],
    )
    def test_an_origin_is_normalised(self, raw: str, expected: str) -> None:
        """The endpoint is kept as scheme://host[:port]."""
        assert arm_origin(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            pytest.param(f"{ARM}/api", "origin without a path", id="path"),
            pytest.param(f"{ARM}#top", "origin without a path", id="fragment"),
            pytest.param("https://management.azure.com:abc", "invalid port", id="bad-port"),
            pytest.param("https://u:p@management.azure.com", "user name", id="userinfo"),
            pytest.param("ftp://management.azure.com", "http(s) URL", id="ftp"),
            pytest.param("https://manage\tment.azure.com", "whitespace", id="inner-tab"),
        ],
    )
    def test_anything_else_is_refused_with_the_reason(self, raw: str, reason: str) -> None:
        """A value that is not an http(s) origin raises ValueError saying why."""
        with pytest.raises(ValueError, match=re.escape(reason)):
            arm_origin(raw)


class TestRedaction:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            pytest.param(
                f"{LOCATION}&sig=SECRET&se=2030",
                LOCATION,
                id="keeps-api-version-drops-signature",
            ),
            pytest.param(
                "https://user:pw@management.azure.com:8443/op?x=1#frag",
                "https://management.azure.com:8443/op",
                id="drops-userinfo-query-and-fragment",
            ),
            pytest.param("https://[::1/broken", "<unparseable URL>", id="unparseable"),
        ],
    )
    def test_url_keeps_only_the_api_version_query(self, url: str, expected: str) -> None:
        """A shown URL never carries signatures, credentials or fragments."""
        assert redact_url(url) == expected

    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            pytest.param(
                "https://u:p@evil.example:8443/s?sig=SECRET",
                "https://evil.example:8443",
                id="origin-only",
            ),
            pytest.param("http://[::1]:9/x", "http://[::1]:9", id="ipv6-bracketed"),
            pytest.param("/relative", "a URL without a host", id="no-host"),
            pytest.param("https://x:99999/", "an unparseable URL", id="bad-port"),
        ],
    )
    def test_describe_origin_names_scheme_host_and_port_only(self, url: str, expected: str) -> None:
        """Messages about a foreign URL name its origin, never its path or query."""
        assert describe_origin(url) == expected
