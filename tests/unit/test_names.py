"""Names the app builds URLs and bindings from agree with the files the host reads."""

import json
from pathlib import Path

from shared.names import ROUTE_PREFIX

HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"


def test_route_prefix_matches_host_json():
    """Status URLs use ROUTE_PREFIX; the host routes by host.json's extensions.http.routePrefix."""
    host = json.loads(HOST_JSON.read_text())
    assert host["extensions"]["http"]["routePrefix"] == ROUTE_PREFIX
