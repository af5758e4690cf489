"""The durable client's `starter` JSON and the management URLs it carries."""

from __future__ import annotations

import json
from urllib.parse import quote

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
"""Public durable HTTP API path, under the host's origin."""

RPC_PATH = "/durabletask/"
"""Path of the local RPC endpoint the SDK client calls (the extension's `rpcBaseUrl`)."""

INSTANCE_PLACEHOLDER = "INSTANCEID"
_CONNECTION = "Storage"


def management_urls(
    origin: str, task_hub: str, key: str | None, instance_id: str = INSTANCE_PLACEHOLDER
) -> dict[str, str]:
    """The extension's `managementUrls` for one instance (or the placeholder); `key`, the
    durabletask_extension system key, goes in as `code`."""
    base = f"{origin.rstrip('/')}{WEBHOOK_PATH}/instances/{quote(instance_id, safe='')}"
    query = f"taskHub={quote(task_hub, safe='')}&connection={_CONNECTION}"
    if key:
        query += f"&code={quote(key, safe='')}"
    return {
        "id": instance_id,
        "statusQueryGetUri": f"{base}?{query}",
        "sendEventPostUri": f"{base}/raiseEvent/{{eventName}}?{query}",
        "terminatePostUri": f"{base}/terminate?reason={{text}}&{query}",
        "rewindPostUri": f"{base}/rewind?reason={{text}}&{query}",
        "purgeHistoryDeleteUri": f"{base}?{query}",
        "restartPostUri": f"{base}/restart?{query}",
        "suspendPostUri": f"{base}/suspend?reason={{text}}&{query}",
        "resumePostUri": f"{base}/resume?reason={{text}}&{query}",
    }


def client_binding_json(origin: str, task_hub: str, key: str | None) -> str:
    """The JSON string the host injects into a `durable_client_input` parameter.

    `key` is the durabletask_extension system key: the extension puts it in
    `requiredQueryStringParameters` as `code=...` and in every URL, since the webhook routes
    take that key (or the master key).
    """
    base_url = f"{origin.rstrip('/')}{WEBHOOK_PATH}"
    code = f"code={quote(key, safe='')}" if key else ""
    creation = f"{base_url}/orchestrators/{{functionName}}[/{{instanceId}}]"
    wait = "timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}"
    return json.dumps(
        {
            "taskHubName": task_hub,
            "creationUrls": {
                "createNewInstancePostUri": f"{creation}?{code}" if code else creation,
                "createAndWaitOnNewInstancePostUri": f"{creation}?{wait}"
                + (f"&{code}" if code else ""),
            },
            "managementUrls": management_urls(origin, task_hub, key),
            "baseUrl": base_url,
            "requiredQueryStringParameters": code,
            "rpcBaseUrl": f"{origin.rstrip('/')}{RPC_PATH}",
        }
    )
