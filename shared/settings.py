"""The app's settings: read once from the environment, validated, named as in the README."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.endpoints import arm_origin
from shared.errors import SettingsError
from shared.scopes import parse_scopes


class Settings(BaseModel):
    """Every setting the app reads. Field aliases are the app setting names."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    arm_endpoint: str = Field("https://management.azure.com", alias="ARM_ENDPOINT")
    default_subscription_id: str | None = Field(None, alias="DEFAULT_SUBSCRIPTION_ID")
    default_resource_group: str | None = Field(None, alias="DEFAULT_RESOURCE_GROUP")
    # Empty: any target (local development); Bicep sets the scopes the ARM role is assigned at.
    write_scopes: tuple[str, ...] = Field((), alias="WRITE_SCOPES")
    operation_deadline_seconds: int = Field(
        7200, alias="OPERATION_DEADLINE_SECONDS", ge=60, le=7 * 24 * 3600
    )
    polls_per_generation: int = Field(20, alias="POLLS_PER_GENERATION", ge=1, le=1000)
    poll_min_interval_seconds: float = Field(10.0, alias="POLL_MIN_INTERVAL_SECONDS", ge=0, le=300)
    # Capped at 300 s: computed waits stop growing there (shared.lro.PollingPolicy).
    poll_default_interval_seconds: float = Field(
        60.0, alias="POLL_DEFAULT_INTERVAL_SECONDS", gt=0, le=300
    )

    @field_validator("arm_endpoint")
    @classmethod
    def _origin_only(cls, value: str) -> str:
        return arm_origin(value)

    @field_validator("write_scopes", mode="before")
    @classmethod
    def _scope_list(cls, value: object) -> object:
        return parse_scopes(value) if isinstance(value, str) else value

    @field_validator("default_subscription_id", "default_resource_group", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def arm_scope(self) -> str:
        """The token scope for ARM: the endpoint's audience plus /.default."""
        return f"{self.arm_endpoint}/.default"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Build from an environment mapping; unknown variables are ignored."""
        names = {field.alias for field in cls.model_fields.values() if field.alias}
        try:
            return cls.model_validate({k: v for k, v in environ.items() if k in names})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise SettingsError(f"invalid app settings: {problems}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings.from_environ(os.environ)
