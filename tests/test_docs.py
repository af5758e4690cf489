"""The README's settings table, the sample settings file and the settings model agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# Read by azure-identity or the Event Grid extension, not by the app; they select a
# user-assigned identity, and locally the identity emulator's system-assigned one is used.
NOT_IN_SAMPLE = {"AZURE_CLIENT_ID", "COMPLETION_TOPIC__clientId"}


def readme_settings() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Za-z_]+)` \|", section, flags=re.MULTILINE))


def sample_settings() -> set[str]:
    document = json.loads((ROOT / "local.settings.sample.json").read_text())
    return set(document["Values"])


class TestSettingsDocumentation:
    def test_readme_table_lists_exactly_the_sample_settings(self) -> None:
        """Every setting in local.settings.sample.json has a README row, and no row is extra."""
        assert readme_settings() == sample_settings() | NOT_IN_SAMPLE

    def test_every_setting_the_app_reads_is_documented(self) -> None:
        """Each field of the settings model appears in the README table under its alias."""
        aliases = {field.alias for field in Settings.model_fields.values()}
        assert aliases <= readme_settings()

    def test_sample_settings_are_valid(self) -> None:
        """The sample file's values pass the app's own settings validation."""
        document = json.loads((ROOT / "local.settings.sample.json").read_text())
        Settings.from_environ(document["Values"])
