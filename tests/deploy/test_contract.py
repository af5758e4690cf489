"""The Bicep deploys what the app's bindings need, by identity, with the least privilege.

Each rule is checked on the real templates, then on a copy broken on purpose, so a test shows
the rule can fail and with which message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.deploy import contract
from tests.deploy.templates import (
    BICEP_FILES,
    INFRA,
    app_settings,
    binding_list,
    parse_bicep,
    role_assignments,
)

API = "app/api.bicep"
RBAC = "app/rbac.bicep"
ARM_ROLE = "app/arm-role.bicep"


@dataclass(frozen=True)
class Deployment:
    """The parsed templates, by path under infra/, and their text."""

    texts: dict[str, str]

    @property
    def parsed(self) -> dict[str, dict[str, Any]]:
        return {path: parse_bicep(text) for path, text in self.texts.items()}

    def broken(self, path: str, old: str, new: str) -> Deployment:
        """A copy with `old` replaced by `new` in one template (which must contain it)."""
        assert old in self.texts[path], f"{path} no longer contains {old!r}"
        return Deployment({**self.texts, path: self.texts[path].replace(old, new, 1)})


def problems(deployment: Deployment) -> list[str]:
    """Every broken rule of the deployment, against the app's bindings."""
    parsed = deployment.parsed
    bindings = binding_list()
    settings = app_settings(parsed[API])
    rbac = parsed[RBAC]
    arm_role = parsed[ARM_ROLE]
    return [
        *contract.connection_problems(bindings, settings),
        *contract.required_setting_problems(settings),
        *contract.secret_problems(settings, deployment.texts),
        *contract.local_auth_problems(parsed),
        *contract.role_problems(
            bindings, role_assignments(rbac), rbac["variables"]["roles"]["value"]
        ),
        *contract.arm_role_problems(
            arm_role["variables"]["actions"]["value"], deployment.texts[ARM_ROLE]
        ),
        *contract.assignment_location_problems(parsed),
    ]


@pytest.fixture(scope="module")
def deployment() -> Deployment:
    return Deployment(
        {str(path.relative_to(INFRA)): path.read_text(encoding="utf-8") for path in BICEP_FILES}
    )


def test_the_templates_keep_every_rule(deployment: Deployment) -> None:
    """The real templates: identity everywhere, every needed role and no other, no secret."""
    assert problems(deployment) == []


def test_every_binding_connection_is_checked() -> None:
    """The app has the bindings the rules are about (a renamed connection would slip past)."""
    connections = {contract.connection_of(binding) for binding in binding_list()}
    assert connections == {None, "AzureWebJobsStorage", "COMPLETION_TOPIC"}


BREAKAGES = [
    pytest.param(
        API,
        "  COMPLETION_TOPIC__topicEndpointUri: completionTopicEndpoint\n",
        "",
        "eventGrid binding needs COMPLETION_TOPIC__topicEndpointUri",
        id="connection-without-endpoint",
    ),
    pytest.param(
        API,
        "  AzureWebJobsStorage__credential: 'managedidentity'\n",
        "",
        "AzureWebJobsStorage__credential is not 'managedidentity'",
        id="connection-without-credential",
    ),
    pytest.param(
        API,
        "  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table\n",
        "",
        "orchestrationTrigger binding needs AzureWebJobsStorage__tableServiceUri",
        id="durable-without-table-uri",
    ),
    pytest.param(
        API,
        "  DEFAULT_RESOURCE_GROUP: defaultResourceGroup\n",
        "",
        "app setting DEFAULT_RESOURCE_GROUP is not set",
        id="required-setting-missing",
    ),
    pytest.param(
        API,
        "  WRITE_SCOPES: writeScopes\n",
        "",
        "app setting WRITE_SCOPES is not set",
        id="scopes-setting-missing",
    ),
    pytest.param(
        API,
        "  AZURE_CLIENT_ID: identityClientId\n",
        "  AZURE_CLIENT_ID: identityClientId\n  COMPLETION_TOPIC_KEY: 'x'\n",
        "app setting COMPLETION_TOPIC_KEY looks like a secret",
        id="key-setting",
    ),
    pytest.param(
        API,
        "  AzureWebJobsStorage__credential: 'managedidentity'\n",
        "  AzureWebJobsStorage__credential: 'managedidentity'\n"
        "  AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k'\n",
        "AzureWebJobsStorage is set as a connection string, not by identity",
        id="connection-string",
    ),
    pytest.param(
        API,
        "  AZURE_CLIENT_ID: identityClientId\n",
        "  AZURE_CLIENT_ID: identityClientId\n  TOPIC_ACCESS: storage.listKeys().keys[0].value\n",
        "'listKeys('",
        id="list-keys",
    ),
    pytest.param(
        "app/storage.bicep",
        "allowSharedKeyAccess: false",
        "allowSharedKeyAccess: true",
        "storage must set allowSharedKeyAccess: false",
        id="shared-key-on",
    ),
    pytest.param(
        "app/eventgrid.bicep",
        "disableLocalAuth: true",
        "disableLocalAuth: false",
        "completions must set disableLocalAuth: true",
        id="topic-key-on",
    ),
    pytest.param(
        RBAC,
        "  scope: completions\n",
        "  scope: requests\n",
        "missing role eventGridDataSender for principalId on Microsoft.EventGrid/topics "
        "completionTopicName",
        id="sender-on-the-wrong-topic",
    ),
    pytest.param(
        RBAC,
        "'Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)",
        "'Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)",
        "missing role storageTableDataContributor for principalId",
        id="durable-table-role-missing",
    ),
    pytest.param(
        RBAC,
        "storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'",
        "storageBlobDataOwner: 'b24988ac-6180-42a0-ab88-20f7382dd24c'",
        "role storageBlobDataOwner is Contributor, broader than any binding needs",
        id="contributor",
    ),
    pytest.param(
        RBAC,
        "  scope: applicationInsights\n",
        "  scope: storage\n",
        "role monitoringMetricsPublisher for principalId on Microsoft.Storage/storageAccounts "
        "storageAccountName is not needed",
        id="role-on-a-resource-that-does-not-need-it",
    ),
    pytest.param(
        ARM_ROLE,
        "'Microsoft.CustomerInsights/hubs/interactions/write'",
        "'Microsoft.CustomerInsights/hubs/*'",
        "ARM action Microsoft.CustomerInsights/hubs/* is a wildcard",
        id="arm-wildcard",
    ),
    pytest.param(
        ARM_ROLE,
        "  'Microsoft.CustomerInsights/locations/operationStatuses/read'\n",
        "",
        "ARM action Microsoft.CustomerInsights/locations/operationStatuses/read is missing",
        id="arm-poll-action-missing",
    ),
    pytest.param(
        "main.bicep",
        "module rbac 'app/rbac.bicep' = {",
        "resource wide 'Microsoft.Authorization/roleAssignments@2022-04-01' = {\n"
        "  name: guid('x')\n  properties: {\n    principalId: 'p'\n"
        "    roleDefinitionId: '/providers/b24988ac-6180-42a0-ab88-20f7382dd24c'\n  }\n}\n\n"
        "module rbac 'app/rbac.bicep' = {",
        "main.bicep: role assignment wide outside rbac.bicep",
        id="assignment-outside-rbac",
    ),
]


@pytest.mark.parametrize(("path", "old", "new", "expected"), BREAKAGES)
def test_a_broken_template_fails_with_the_rule(
    deployment: Deployment, path: str, old: str, new: str, expected: str
) -> None:
    """Breaking one rule in one template is reported, naming what is wrong."""
    found = problems(deployment.broken(path, old, new))
    assert any(expected in problem for problem in found), json.dumps(found, indent=1)
