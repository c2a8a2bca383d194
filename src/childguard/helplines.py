"""Helplines and reporting services fitted to the child's country and the category at hand."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .decision import Resource
from .errors import ConfigError, InvalidCountryError
from .iso_codes import is_country
from .policy import deep_merge
from .taxonomy import load_yaml_resource

_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_ALIASES = {"UK": "GB", "EL": "GR"}


def normalize_country(country: str | None) -> str | None:
    if country is None:
        return None
    if not isinstance(country, str) or not _COUNTRY.match(country.strip()):
        raise InvalidCountryError(
            f"country {country!r} is not an ISO 3166 alpha-2 code; use a code like 'GB', 'KE' or 'BR', or omit it"
        )
    code = country.strip().upper()
    code = _ALIASES.get(code, code)
    if not is_country(code):
        raise InvalidCountryError(
            f"{country.strip()!r} is not a country code (ISO 3166 alpha-2); use a code like 'GB', 'KE' or 'BR', "
            "or omit it and international helplines are given")
    return code


class Directory:
    def __init__(self, raw: dict[str, Any]) -> None:
        try:
            self.source = str(raw.get("source", ""))
            self.compiled = str(raw.get("compiled", ""))
            self._global = [dict(e) for e in raw.get("global", [])]
            self._countries = {str(k).upper(): [dict(e) for e in v] for k, v in (raw.get("countries") or {}).items()}
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"helplines file is malformed: {exc!r}") from exc

    @property
    def countries(self) -> list[str]:
        return sorted(self._countries)

    @staticmethod
    def _matches(entry: dict[str, Any], category: str | None) -> bool:
        cats = entry.get("categories") or ["all"]
        return "all" in cats or (category is not None and category in cats)

    def lookup(self, country: str | None, category: str | None) -> list[Resource]:
        out: list[Resource] = []
        for entry in self._countries.get(country or "", []):
            if self._matches(entry, category):
                out.append(Resource(name=entry["name"], phone=entry.get("phone"), sms=entry.get("sms"),
                                    url=entry.get("url"), country=country))
        for entry in self._global:
            if self._matches(entry, category):
                out.append(Resource(name=entry["name"], phone=entry.get("phone"), sms=entry.get("sms"),
                                    url=entry.get("url"), country=None))
        return out


@lru_cache(maxsize=4)
def load_directory(override: Path | None = None) -> Directory:
    raw = load_yaml_resource("helplines.yaml")
    if override is not None:
        try:
            extra = yaml.safe_load(Path(override).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read helplines override {override}: {exc}") from exc
        raw = deep_merge(raw, extra)
    return Directory(raw)
