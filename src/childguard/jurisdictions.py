"""Jurisdiction profiles: presets an operator picks (`CHILDGUARD_JURISDICTION`) and can override, each a
data file (`data/jurisdictions/*.yaml`) that says what it sets and which rule it follows.

A profile sets consent (whether it is required, and the age below which it is), reminders (AI
disclosure and breaks), retention and which transparency counts are published. It is applied once,
to the settings, for every field the operator did not set explicitly, so everything downstream (store
retention, conversation analysers, consent checks) reads one settings object; a request's `country`
can then pick another profile's consent age (an EU member state's GDPR art. 8 age, for instance)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .agebands import AgeBand
from .errors import ConfigError
from .settings import Settings

TRANSPARENCY_SECTIONS = ("by_category", "by_action", "by_age_band", "by_language", "by_source", "by_day", "review",
                         "contests")


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: Any
    cite: str = Field(min_length=3, description="the rule this value follows")


class ChecklistItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    cite: str
    check: str = Field(description="name of a check in childguard.compliance, or 'operator'")


class Jurisdiction(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    extends: str | None = None
    countries: list[str] = Field(default_factory=list)
    consent_age_by_country: dict[str, int] = Field(default_factory=dict)
    rules: dict[str, Rule]
    checklist: list[ChecklistItem] = Field(default_factory=list)

    def value(self, rule: str) -> Any:
        return self.rules[rule].value if rule in self.rules else None

    def consent_age(self, country: str | None = None) -> int:
        if country and country.upper() in self.consent_age_by_country:
            return self.consent_age_by_country[country.upper()]
        return int(self.value("consent_age") or 0)

    def consent_needed(self, band: AgeBand | None, country: str | None = None) -> bool:
        """Consent is needed when the profile requires it and the child may be under the consent age;
        an unknown age, or a band that straddles the age, counts as under (the stricter reading)."""
        if not self.value("require_consent"):
            return False
        return band is None or band.min_age < self.consent_age(country)

    @property
    def publishes(self) -> list[str]:
        return list(self.value("transparency_publish") or TRANSPARENCY_SECTIONS)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "publishes": self.publishes,
                "rules": {k: {"value": r.value, "cite": r.cite} for k, r in self.rules.items()}}


def _merge(base: Jurisdiction, child: dict[str, Any]) -> dict[str, Any]:
    items = {i.id: i.model_dump() for i in base.checklist}
    items.update({i["id"]: i for i in child.get("checklist", [])})
    return {**child, "rules": {**{k: r.model_dump() for k, r in base.rules.items()}, **child.get("rules", {})},
            "checklist": list(items.values()),
            "consent_age_by_country": {**base.consent_age_by_country, **child.get("consent_age_by_country", {})}}


@lru_cache(maxsize=1)
def load_jurisdictions() -> dict[str, Jurisdiction]:
    folder = resources.files("childguard.data").joinpath("jurisdictions")
    raw: dict[str, dict[str, Any]] = {}
    for entry in folder.iterdir():
        if entry.name.endswith(".yaml"):
            data = yaml.safe_load(entry.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or "id" not in data:
                raise ConfigError(f"jurisdiction file {entry.name} must be a mapping with an 'id'")
            raw[str(data["id"])] = data
    out: dict[str, Jurisdiction] = {}

    def build(jid: str, seen: tuple[str, ...] = ()) -> Jurisdiction:
        if jid in out:
            return out[jid]
        if jid in seen or jid not in raw:
            raise ConfigError(f"jurisdiction {jid!r} is unknown or extends itself ({' -> '.join(seen)})")
        data = raw[jid]
        parent = data.get("extends")
        merged = _merge(build(parent, (*seen, jid)), data) if parent else data
        try:
            out[jid] = Jurisdiction.model_validate(merged)
        except ValidationError as exc:
            raise ConfigError(f"jurisdiction {jid}: {exc}") from exc
        return out[jid]

    for jid in raw:
        build(jid)
    return out


def get_jurisdiction(jid: str) -> Jurisdiction:
    profiles = load_jurisdictions()
    wanted = jid.strip().upper() if jid.strip().lower() != "default" else "default"
    if wanted not in profiles:
        raise ConfigError(f"unknown jurisdiction {jid!r}; use one of: {', '.join(sorted(profiles))}")
    return profiles[wanted]


def for_country(country: str | None, fallback: Jurisdiction) -> Jurisdiction:
    """The profile whose `countries` list the request's country, else the deployment's own."""
    if country:
        code = country.strip().upper()
        for j in load_jurisdictions().values():
            if code in j.countries:
                return j
    return fallback


def _hours(h: Any) -> float:
    return float(h) * 3600


# profile rule -> (settings field, conversion): a registry, so a new rule is one line here
RULE_SETTINGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "require_consent": ("require_consent", bool),
    "retention_days": ("retention_days", int),
    "break_reminder_hours": ("long_session_s", lambda h: int(h * 3600)),
    "ai_disclosure_every_hours": ("ai_disclosure_every_s", _hours),
}


def apply_jurisdiction(settings: Settings) -> tuple[Settings, Jurisdiction | None]:
    """The settings with the active profile's values for every field the operator left unset (an
    explicit CHILDGUARD_ setting always wins), and the profile; unchanged without a profile."""
    if not settings.jurisdiction:
        return settings, None
    j = get_jurisdiction(settings.jurisdiction)
    explicit = settings.model_fields_set
    update: dict[str, Any] = {}
    for rule, (field, convert) in RULE_SETTINGS.items():
        value = j.value(rule)
        if value is not None and field not in explicit:  # null in a profile: that law sets nothing here
            update[field] = convert(value)
    # the reminder analyser runs under every profile: a request's country may ask for reminders even where
    # the deployment's own profile does not (the analyser picks the interval per message)
    if "disclosure" not in settings.conversation_analyzers and "conversation_analyzers" not in explicit:
        update["conversation_analyzers"] = [*settings.conversation_analyzers, "disclosure"]
    return settings.model_copy(update=update), j
