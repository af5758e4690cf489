"""`tools.submit` with several files or a folder, against the app on the local host."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.tools.conftest import LocalApp, envelope_file

pytestmark = pytest.mark.e2e


def table(stdout: str) -> dict[str, int]:
    """The closing table: outcome name to count."""
    names, counts = stdout.strip().splitlines()[-2:]
    return dict(zip(names.split(), (int(n) for n in counts.split()), strict=True))


def test_a_folder_is_sent_type_by_type_with_a_closing_table(
    local_app: LocalApp, tmp_path: Path
) -> None:
    """Each file gets a progress line; a bad file is counted failed and the exit code says so."""
    tag = uuid.uuid4().hex[:8]
    first, second = envelope_file(tmp_path, f"BatchA{tag}"), envelope_file(tmp_path, f"BatchB{tag}")
    (tmp_path / "broken.json").write_text("{not json")

    result = local_app.submit(str(tmp_path), "--via", "http", "--timeout", "60", timeout=120)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "[1/3] BatchA" in result.stdout
    assert "[3/3] broken.json: failed" in result.stdout
    assert table(result.stdout) == {"created": 2, "updated": 0, "none": 0, "failed": 1}

    changed = json.loads(second.read_text())
    changed["definition"]["apiEntitySetName"] = "Changed"
    second.write_text(json.dumps(changed))
    again = local_app.submit(str(first), str(second), "--via", "queue", timeout=120)

    assert again.returncode == 0, again.stdout + again.stderr
    assert table(again.stdout) == {"created": 0, "updated": 1, "none": 1, "failed": 0}
