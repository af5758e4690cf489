"""Comments and docs cite only what a clone has: files in the repository or public URLs."""

import re
import subprocess

from tests.devhost.support import REPO_ROOT

# The team's reference notes sit beside the repository, never in it; what the code relies on is
# described in docs/contracts/ instead.
OUTSIDE = re.compile(r"shared/reference|\.\./shared/|arm-contract|lro-anchors|style-anchors")
CITED_DOC = re.compile(r"docs/contracts/([a-z-]+\.md)(?: §(\d+))?")


def _tracked_text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py", "*.md", "*.json", "*.bicep", "Makefile"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [path for path in listed if path != "package-lock.json"]


def test_nothing_cites_a_document_outside_the_repository():
    offenders = [
        f"{path}:{number}: {line.strip()}"
        for path in _tracked_text_files()
        if path != "tests/test_citations.py"
        for number, line in enumerate((REPO_ROOT / path).read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_every_cited_contract_section_exists():
    missing = []
    for path in _tracked_text_files():
        for match in CITED_DOC.finditer((REPO_ROOT / path).read_text()):
            doc = REPO_ROOT / "docs" / "contracts" / match[1]
            section = rf"^## {match[2]}\. "
            if not doc.exists() or (match[2] and not re.search(section, doc.read_text(), re.M)):
                missing.append(f"{path}: {match[0]}")
    assert missing == []
