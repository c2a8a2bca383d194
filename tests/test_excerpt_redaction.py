"""Every stored excerpt goes through the redaction `childguard redact` applies: what the Presidio
redactor finds in a child's words is gone from the excerpt a case or a contest keeps."""

from __future__ import annotations

import pytest

from childguard.store.store import excerpt_of

pytest.importorskip("presidio_analyzer")

from childguard.privacy import default_redactor

TEXTS = [
    "my snap is amy_2014 add me",
    "add me on insta: amy_2014 pls",
    "my snapchat is amy_2014",
    "my gamertag is DarkWolf99, he keeps messaging me",
    "you can find me @amy_2014",
    "my mum's name is Sarah Jones and she works late",
    "my name is Amy Smith and i'm scared",
    "je m'appelle Chloé et j'ai peur",
    "me llamo Lucía y tengo miedo",
    "my password is hunter22 dont tell",
]


@pytest.mark.parametrize("text", TEXTS)
def test_stored_excerpt_loses_what_childguard_redact_finds(text: str) -> None:
    found = default_redactor().find(text, "en")
    assert found, f"the Presidio redactor finds nothing in {text!r}: the case is not exercised"
    kept = excerpt_of(text)
    assert kept is not None
    for e in found:
        assert text[e.start:e.end] not in kept, (text, kept)
    assert "[private]" in kept
