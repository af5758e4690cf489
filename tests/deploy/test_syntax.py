"""Every template parses with two independent Bicep parsers, and a syntax error fails both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_bicep
import yaml

from tests.deploy.templates import BICEP_FILES, INFRA, ROOT, parse_bicep

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bicep.language()))
IDS = [str(path.relative_to(INFRA)) for path in BICEP_FILES]


def tree_sitter_errors(source: bytes) -> list[str]:
    """Positions of tree-sitter-bicep's ERROR and MISSING nodes (empty: it parsed)."""
    found: list[str] = []
    pending = [_PARSER.parse(source).root_node]
    while pending:
        node = pending.pop()
        if node.is_error or node.is_missing:
            found.append(f"line {node.start_point[0] + 1}: {node.type}")
        pending.extend(node.children)
    return found


def test_the_templates_are_there() -> None:
    """The azd layout: main.bicep at subscription scope and modules under infra/app/."""
    assert "main.bicep" in IDS
    assert {"app/api.bicep", "app/storage.bicep", "app/rbac.bicep"} <= set(IDS)
    assert parse_bicep((INFRA / "main.bicep").read_text())["globals"]["scope"] == {
        "value": "subscription"
    }


@pytest.mark.parametrize("path", BICEP_FILES, ids=IDS)
def test_template_parses_with_pycep(path: Path) -> None:
    """pycep-parser reads the whole template (it raises on a syntax error)."""
    assert parse_bicep(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", BICEP_FILES, ids=IDS)
def test_template_parses_with_tree_sitter(path: Path) -> None:
    """tree-sitter-bicep finds no error node."""
    assert tree_sitter_errors(path.read_bytes()) == []


def test_a_syntax_error_fails_both_parsers() -> None:
    """A brace dropped from main.bicep is caught by each parser (so the tests above can fail)."""
    broken = (
        (INFRA / "main.bicep")
        .read_text()
        .replace("module api 'app/api.bicep' = {", "module api 'app/api.bicep' =", 1)
    )
    with pytest.raises(Exception, match="Unexpected"):
        parse_bicep(broken)
    assert tree_sitter_errors(broken.encode()) != []


def test_parameters_file_maps_the_azd_environment() -> None:
    """main.parameters.json feeds azd's environment values to main.bicep's parameters."""
    document = json.loads((INFRA / "main.parameters.json").read_text())
    values = {name: entry["value"] for name, entry in document["parameters"].items()}
    assert values["environmentName"] == "${AZURE_ENV_NAME}"
    assert values["location"] == "${AZURE_LOCATION}"
    assert values["principalId"] == "${AZURE_PRINCIPAL_ID}"
    declared = parse_bicep((INFRA / "main.bicep").read_text())["parameters"]
    assert set(values) <= set(declared), "a parameter main.bicep does not declare"


def test_azure_yaml_has_what_azd_requires() -> None:
    """A name and one service: the repo root, language python, host function."""
    document = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert isinstance(document["name"], str)
    assert document["name"]
    (service,) = document["services"].values()
    assert service["language"] == "python"
    assert service["host"] == "function"
    assert (ROOT / service["project"] / "function_app.py").is_file()
    assert (ROOT / service["project"] / "host.json").is_file()
    for hook in document.get("hooks", {}).values():
        for platform in hook.values():
            assert (ROOT / platform["run"]).is_file(), platform["run"]


def test_host_json_has_the_flex_durable_guidance() -> None:
    """Durable on Flex: the task hub's queues are polled at least every 10 s."""
    durable = json.loads((ROOT / "host.json").read_text())["extensions"]["durableTask"]
    interval = durable["storageProvider"]["maxQueuePollingInterval"]
    hours, minutes, seconds = (float(part) for part in interval.split(":"))
    assert hours * 3600 + minutes * 60 + seconds <= 10
