"""Asking the operator's age-assurance provider before a strong age signal switches a profile into a
younger band (proportionate age assurance, 4c, 5a).

The webhook gets only what it needs to answer: the profile's keyed hash (the provider maps it back to
its own account) and the band the signal implies; never the message, never the evidence (5b). It
answers `{"confirmed": true|false, "band": "10-12"}`. Whatever it says, protection never gets looser
than the band the request already asked for: a "no" keeps the current band, a "yes" applies the
younger one, and silence applies the younger one too unless the operator turned that off
(`age_assurance_fail_closed`), because a child who is not verified in time is still a child."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

from .agebands import AgeBand
from .settings import Settings


class AssuranceOutcome(StrEnum):
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    UNAVAILABLE = "provider_unavailable"


@dataclass(frozen=True, slots=True)
class AssuranceAnswer:
    outcome: AssuranceOutcome
    band: AgeBand | None = None  # the band the provider confirmed (may differ from the implied one)


class AgeAssuranceClient:
    """Synchronous on purpose: the service calls it from a store thread (never a decision worker,
    service/conversation_turns.py), and the turn waits for the answer (bounded by `timeout_s`)."""

    def __init__(self, url: str, timeout_s: float = 3.0, api_key: str | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout_s)

    @classmethod
    def from_settings(cls, settings: Settings) -> AgeAssuranceClient | None:
        if not settings.age_assurance_url:
            return None
        return cls(settings.age_assurance_url, settings.age_assurance_timeout_s, settings.age_assurance_api_key)

    def verify(self, profile_ref: str, implied: AgeBand) -> AssuranceAnswer:
        try:
            r = self._client.post(self.url, json={"profile": profile_ref, "implied_band": implied.value},
                                  headers=self._headers)
            r.raise_for_status()
            body = r.json()
            if not isinstance(body, dict) or not isinstance(body.get("confirmed"), bool):
                return AssuranceAnswer(AssuranceOutcome.UNAVAILABLE)
            if not body["confirmed"]:
                return AssuranceAnswer(AssuranceOutcome.NOT_CONFIRMED)
            band = AgeBand(str(body.get("band") or implied.value))
        except (httpx.HTTPError, ValueError):
            return AssuranceAnswer(AssuranceOutcome.UNAVAILABLE)
        return AssuranceAnswer(AssuranceOutcome.CONFIRMED, band)

    def close(self) -> None:
        self._client.close()
