"""The deployment's rules, as pure functions of the parsed templates and the app's bindings.

Each returns the list of broken rules (empty: the rule holds), so a test can show both that
the real templates pass and that a template broken on purpose fails with the right message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from shared.settings import Settings
from tests.deploy.templates import Assignment, resource_config

STORAGE = "AzureWebJobsStorage"
# Durable Functions keeps its task hub in the host storage: blobs (leases), queues, tables.
DURABLE_TYPES = {"orchestrationTrigger", "activityTrigger", "durableClient", "entityTrigger"}
# What an identity-based connection of each binding type must name, besides its credential
# (https://learn.microsoft.com/azure/azure-functions/functions-reference#configure-an-identity-based-connection).
SERVICE_SETTINGS = {
    "queue": ("queueServiceUri",),
    "queueTrigger": ("queueServiceUri",),
    "eventGrid": ("topicEndpointUri",),
    **{kind: ("blobServiceUri", "queueServiceUri", "tableServiceUri") for kind in DURABLE_TYPES},
}
STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts"
TOPIC = "Microsoft.EventGrid/topics"
# The roles the app's identity needs: for its bindings' connections, plus the host's own use of
# AzureWebJobsStorage (blob leases, Flex's deployment package) and Entra ID telemetry.
ROLES_BY_BINDING = {
    "queue": {("storageQueueDataContributor", STORAGE_ACCOUNT, "storageAccountName")},
    "queueTrigger": {("storageQueueDataContributor", STORAGE_ACCOUNT, "storageAccountName")},
    "eventGrid": {("eventGridDataSender", TOPIC, "completionTopicName")},
    **{
        kind: {
            ("storageQueueDataContributor", STORAGE_ACCOUNT, "storageAccountName"),
            ("storageTableDataContributor", STORAGE_ACCOUNT, "storageAccountName"),
        }
        for kind in DURABLE_TYPES
    },
}
HOST_ROLES = {
    ("storageBlobDataOwner", STORAGE_ACCOUNT, "storageAccountName"),
    ("monitoringMetricsPublisher", "Microsoft.Insights/components", "applicationInsightsName"),
}
APP_PRINCIPAL = "principalId"
# Assignments to other principals, each for one job: the intake topic writing dead letters
# into its container, and the deployer publishing requests to the intake topic.
OTHER_ASSIGNMENTS = {
    Assignment(
        "intakePrincipalId",
        "storageBlobDataContributor",
        "Microsoft.Storage/storageAccounts/blobServices/containers",
        "${storageAccountName}/default/${deadLetterContainerName}",
    ),
    Assignment("deployerPrincipalId", "eventGridDataSender", TOPIC, "intakeTopicName"),
}
# Built-in roles that can do far more than any binding needs.
BROAD_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
}
ARM_ACTIONS = {
    "Microsoft.CustomerInsights/hubs/interactions/read",
    "Microsoft.CustomerInsights/hubs/interactions/write",
    "Microsoft.CustomerInsights/locations/operationResults/read",
    "Microsoft.CustomerInsights/locations/operationStatuses/read",
}
# Set by Bicep besides the settings model's fields. ARM_ENDPOINT is left to its public-cloud
# default; FUNCTIONS_WORKER_RUNTIME is refused on Flex (the runtime is in functionAppConfig).
PLATFORM_SETTINGS = {
    "AZURE_CLIENT_ID",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
}
NOT_SET_IN_AZURE = {"ARM_ENDPOINT"}
# The ingestion endpoint and instrumentation key, not a secret once local auth is disabled on
# the component (monitoring.bicep): telemetry then needs the identity's token.
ALLOWED_CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
SECRET_NAME = re.compile(r"(key|secret|password|connection_?string|sas)$", re.IGNORECASE)
SECRET_TEXT = re.compile(
    r"listKeys\(|listkeys\(|AccountKey=|SharedAccessKey|aeg-sas|DefaultEndpointsProtocol"
    r"|primaryKey|secondaryKey|\.key1|\.key2",
    re.IGNORECASE,
)


def connection_of(binding: dict[str, Any]) -> str | None:
    """The connection a binding uses; durable bindings always use the host storage."""
    if binding["type"] in DURABLE_TYPES:
        return STORAGE
    connection = binding.get("connection")
    return str(connection) if connection else None


def connection_problems(bindings: Iterable[dict[str, Any]], settings: dict[str, Any]) -> list[str]:
    """Each binding's connection has identity-based settings, and no connection string."""
    problems = []
    for binding in bindings:
        connection = connection_of(binding)
        if connection is None:
            continue
        if connection in settings:
            problems.append(f"{connection} is set as a connection string, not by identity")
        if settings.get(f"{connection}__credential") != "managedidentity":
            problems.append(f"{connection}__credential is not 'managedidentity'")
        if not settings.get(f"{connection}__clientId"):
            problems.append(f"{connection}__clientId is not set (user-assigned identity)")
        for suffix in SERVICE_SETTINGS.get(binding["type"], ()):
            if not settings.get(f"{connection}__{suffix}"):
                problems.append(f"{binding['type']} binding needs {connection}__{suffix}")
    return sorted(set(problems))


def required_setting_problems(settings: dict[str, Any]) -> list[str]:
    """Every setting the app reads is set, except those left to their Azure default."""
    aliases = {field.alias for field in Settings.model_fields.values() if field.alias}
    required = (aliases - NOT_SET_IN_AZURE) | PLATFORM_SETTINGS
    return [f"app setting {name} is not set" for name in sorted(required - set(settings))]


def secret_problems(settings: dict[str, Any], bicep_texts: dict[str, str]) -> list[str]:
    """No key, connection string or listKeys() in the settings or any template."""
    problems = [
        f"app setting {name} looks like a secret"
        for name in settings
        if SECRET_NAME.search(name) and name != ALLOWED_CONNECTION_STRING
    ]
    problems += [
        f"app setting {name} holds a key or connection string"
        for name, value in settings.items()
        if SECRET_TEXT.search(json.dumps(value))
    ]
    for path, text in bicep_texts.items():
        code = "\n".join(line.split("//", 1)[0] for line in text.splitlines())
        problems += [f"{path}: {match[0]!r}" for match in SECRET_TEXT.finditer(code)]
    return problems


def local_auth_problems(parsed: dict[str, dict[str, Any]]) -> list[str]:
    """Storage takes no shared key; topics and Application Insights take no local key."""
    expected = {
        "Microsoft.Storage/storageAccounts": ("allowSharedKeyAccess", False),
        "Microsoft.EventGrid/topics": ("disableLocalAuth", True),
        "Microsoft.Insights/components": ("DisableLocalAuth", True),
    }
    problems = []
    for path, template in parsed.items():
        for symbol, resource in template.get("resources", {}).items():
            rule = expected.get(resource["type"])
            if rule is None or resource["existing"]:
                continue
            name, value = rule
            if resource_config(resource).get("properties", {}).get(name) != value:
                problems.append(f"{path}: {symbol} must set {name}: {str(value).lower()}")
    return problems


def role_problems(
    bindings: Iterable[dict[str, Any]], assignments: list[Assignment], roles: dict[str, str]
) -> list[str]:
    """Each role a binding needs is assigned on its resource; nothing else, nothing broader."""
    needed = set(HOST_ROLES)
    for binding in bindings:
        needed |= ROLES_BY_BINDING.get(binding["type"], set())
    wanted = {Assignment(APP_PRINCIPAL, *role) for role in needed} | OTHER_ASSIGNMENTS
    present = set(assignments)
    problems = [
        f"missing role {a.role} for {a.principal} on {a.scope_type} {a.scope_name}"
        for a in sorted(wanted - present, key=str)
    ]
    problems += [
        f"role {a.role} for {a.principal} on {a.scope_type} {a.scope_name} is not needed"
        for a in sorted(present - wanted, key=str)
    ]
    problems += [
        f"role {key} is {BROAD_ROLES[role_id]}, broader than any binding needs"
        for key, role_id in roles.items()
        if role_id.lower() in BROAD_ROLES
    ]
    return problems


def arm_role_problems(actions: list[str], template_text: str) -> list[str]:
    """The custom ARM role has exactly the Customer Insights actions a PUT and its polls need."""
    problems = [f"ARM action {a} is a wildcard" for a in actions if "*" in a]
    problems += [f"ARM action {a} is not needed" for a in sorted(set(actions) - ARM_ACTIONS)]
    problems += [f"ARM action {a} is missing" for a in sorted(ARM_ACTIONS - set(actions))]
    if "notActions: []" not in template_text:
        problems.append("the ARM role must not rely on notActions")
    return problems


def assignment_location_problems(parsed: dict[str, dict[str, Any]]) -> list[str]:
    """Role assignments live in rbac.bicep, or assign only the custom ARM role."""
    problems = []
    for path, template in parsed.items():
        for symbol, resource in template.get("resources", {}).items():
            if resource["type"] != "Microsoft.Authorization/roleAssignments":
                continue
            properties = resource_config(resource).get("properties", {})
            custom = properties.get("roleDefinitionId") == "roleDefinitionId"
            if path != "app/rbac.bicep" and not (path.startswith("app/arm-role") and custom):
                problems.append(f"{path}: role assignment {symbol} outside rbac.bicep")
    return problems
