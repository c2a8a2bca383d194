"""The LLM-guard detector against a real HTTP server on loopback that answers like Llama Guard."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from childguard import Action, ConfigError, DetectorError, Guard, Settings
from childguard.detectors.llm_guard import parse_verdict
from childguard.testing import chat_server


@pytest.fixture()
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    with chat_server("llama_guard", record=seen) as url:
        yield url, seen


def _guard(url: str) -> Guard:
    return Guard(Settings(detectors=["classifier", "llm_guard"], llm_guard_url=url, llm_guard_api_key="k"))


def test_llm_guard_adds_findings(server: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = server
    d = _guard(url).check("which bridge is the highest to jump from", age=14)
    assert d.action is Action.ESCALATE
    assert any(r.detector == "llm_guard" and r.label == "self_harm" for r in d.reasons)
    assert seen[0]["model"] == "llama-guard"


def test_llm_guard_failure_degrades_to_the_embedded_detectors(server: tuple[str, list[dict[str, Any]]]) -> None:
    d = _guard(server[0]).check("broken request about homework", age=10)
    assert d.action is Action.ALLOW
    assert any(r.label == "detector" and "llm_guard" in r.text for r in d.reasons)


def test_llm_guard_needs_a_url() -> None:
    with pytest.raises(ConfigError):
        Guard(Settings(detectors=["llm_guard"]))


def test_verdict_parsing() -> None:
    assert parse_verdict("safe") == []
    assert parse_verdict("unsafe\nS4, S10") == ["hate", "sexual_minors"]
    with pytest.raises(DetectorError):
        parse_verdict("maybe?")
