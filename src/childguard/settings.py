"""One typed settings object for the whole package (env prefix CHILDGUARD_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .agebands import AgeBand


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHILDGUARD_", env_nested_delimiter="__", extra="ignore")

    default_age_band: AgeBand = Field(
        AgeBand.TRANSITION,
        description="Band used when a request gives no age. The AADC asks services that do not know "
        "a user's age to treat them as a child; set the band your audience is closest to.",
    )
    default_language: str = Field("en", description="Language of messages when detection is unsure.")
    policy_file: Path | None = Field(None, description="YAML file merged over the shipped policy.")
    helplines_file: Path | None = Field(None, description="YAML file merged over the shipped helplines.")
    detectors: list[str] = Field(
        default_factory=lambda: ["classifier", "personal_data", "contact_risk", "prompt_injection"],
        description="Names from the detector registry, run in this order.",
    )
    max_text_chars: int = Field(100_000, ge=1, description="Longer texts are refused with TextTooLongError.")
    window_chars: int = Field(
        600, ge=100, description="Long texts are scored in overlapping windows of this size (max over windows)."
    )
    llm_guard_url: str | None = Field(None, description="OpenAI-compatible base URL of an LLM guard model.")
    llm_guard_model: str = Field("llama-guard", description="Model name sent to the LLM guard endpoint.")
    llm_guard_api_key: str | None = Field(None, repr=False)
    llm_guard_timeout_s: float = Field(10.0, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
