"""The README's settings table, the sample settings file, the Bicep and the settings model agree."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared.settings import Settings
from tests.deploy.templates import INFRA, app_settings, parse_bicep

ROOT = Path(__file__).resolve().parent.parent


def readme_settings() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Za-z_]+)` \|", section, flags=re.MULTILINE))


def bicep_settings() -> set[str]:
    """The app settings infra/app/api.bicep sets in Azure."""
    return set(app_settings(parse_bicep((INFRA / "app" / "api.bicep").read_text())))


def sample_settings() -> set[str]:
    document = json.loads((ROOT / "local.settings.sample.json").read_text())
    return set(document["Values"])


class TestSettingsDocumentation:
    def test_readme_table_lists_exactly_the_sample_and_bicep_settings(self) -> None:
        """Every setting of local.settings.sample.json and of the Bicep has a README row, and
        no row is extra."""
        assert readme_settings() == sample_settings() | bicep_settings()

    def test_bicep_sets_what_the_local_sample_sets(self) -> None:
        """What runs locally runs in Azure: the Bicep sets each sample setting, except the
        local stand-ins (development storage, the identity emulator, devhost's keys)."""
        local_only = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "ARM_ENDPOINT"}
        local_only |= {
            name for name in sample_settings() if name.startswith(("IDENTITY_", "DEVHOST_"))
        }
        assert sample_settings() - local_only <= bicep_settings()

    def test_every_setting_the_app_reads_is_documented(self) -> None:
        """Each field of the settings model appears in the README table under its alias."""
        aliases = {field.alias for field in Settings.model_fields.values()}
        assert aliases <= readme_settings()

    def test_sample_settings_are_valid(self) -> None:
        """The sample file's values pass the app's own settings validation."""
        document = json.loads((ROOT / "local.settings.sample.json").read_text())
        Settings.from_environ(document["Values"])
