"""The `starter` JSON for durable_client_input, as the SDK client reads it."""

from __future__ import annotations

import json

import azure.functions as func
import pytest
from azure.durable_functions import DurableOrchestrationClient

from devhost.durable.client_binding import client_binding_json

ORIGIN = "http://127.0.0.1:7071"


class TestClientBinding:
    """client_binding_json, with and without a function key."""

    def test_binding_matches_the_extension_shape(self):
        """Task hub, creation and management URLs, base URL and rpcBaseUrl.

        As in docs/contracts/durable-protocol.md §13.
        """
        binding = json.loads(client_binding_json(ORIGIN, "Hub", "k3y"))
        base = f"{ORIGIN}/runtime/webhooks/durabletask"
        assert binding["taskHubName"] == "Hub"
        assert binding["baseUrl"] == base
        assert binding["rpcBaseUrl"] == f"{ORIGIN}/durabletask/"
        assert binding["requiredQueryStringParameters"] == "code=k3y"
        assert binding["creationUrls"]["createNewInstancePostUri"] == (
            f"{base}/orchestrators/{{functionName}}[/{{instanceId}}]?code=k3y"
        )
        assert binding["managementUrls"]["statusQueryGetUri"] == (
            f"{base}/instances/INSTANCEID?taskHub=Hub&connection=Storage&code=k3y"
        )
        assert binding["managementUrls"]["terminatePostUri"] == (
            f"{base}/instances/INSTANCEID/terminate?reason={{text}}"
            "&taskHub=Hub&connection=Storage&code=k3y"
        )

    @pytest.mark.parametrize(("key", "has_code"), [(None, False), ("k3y", True)],
                             ids=["no-key", "key"])  # fmt: skip
    def test_sdk_builds_check_status_links_on_the_request_origin(self, key, has_code):
        """The SDK moves the links to the request's origin and fills in the instance id."""
        client = DurableOrchestrationClient(client_binding_json(ORIGIN, "Hub", key))
        request = func.HttpRequest(method="GET", url="https://public.example/api/x", body=b"")
        links = client.get_client_response_links(request, "abc")
        assert links["id"] == "abc"
        assert links["statusQueryGetUri"].startswith(
            "https://public.example/runtime/webhooks/durabletask/instances/abc?taskHub=Hub"
        )
        assert ("code=k3y" in links["sendEventPostUri"]) is has_code
