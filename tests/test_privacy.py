"""Children's personal data with Presidio: found in several languages, redacted readably,
and no network access on the way (Presidio's e-mail/URL recognizers would fetch a suffix list)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

pytest.importorskip("presidio_analyzer")

from childguard.privacy import Redactor


@pytest.fixture(scope="module")
def redactor() -> Iterator[Redactor]:
    real = socket.socket.connect

    def no_network(self: socket.socket, addr: object) -> None:
        if isinstance(addr, tuple) and addr[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access attempted: {addr}")
        real(self, addr)  # type: ignore[arg-type]

    socket.socket.connect = no_network  # type: ignore[method-assign]
    try:
        yield Redactor()
    finally:
        socket.socket.connect = real  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("text", "lang", "expected", "kept"),
    [
        ("i'm at 12 Oak Street, my number is +44 7700 900123", "en", ["[address]", "[phone]"], "my number is"),
        ("my password is sunshine123, don't tell", "en", ["[password]"], "my password is"),
        ("my name is Emma Jones and my mum's name is Sarah", "en", ["[name]"], "my mum's name is"),
        ("add me: emma_j2012 or @lily.rose", "en", ["[username]"], "add me"),
        ("email me at emma.j@example.com", "en", ["[email]"], "email me at"),
        ("mon mot de passe est soleil123, j'habite 12 rue des lilas", "fr", ["[password]", "[address]"], "j'habite"),
        ("mi contraseña es sol123 y mi teléfono es 612 345 678", "es", ["[password]", "[phone]"], "mi teléfono es"),
        ("我家住在人民路12号，密码是sun123", "zh", ["[address]", "[password]"], "密码是"),
    ],
)
def test_redaction_is_readable(redactor: Redactor, text: str, lang: str, expected: list[str], kept: str) -> None:
    out = redactor.redact(text, lang)
    for placeholder in expected:
        assert placeholder in out.text, out.text
    assert kept in out.text
    assert "sunshine123" not in out.text and "900123" not in out.text and "emma_j2012" not in out.text


def test_ordinary_numbers_stay(redactor: Redactor) -> None:
    text = "what is 7 times 8? the score was 10-12 in 2024"
    assert redactor.redact(text).text == text
    assert redactor.find(text) == []


def test_unknown_language_falls_back_to_english_rules(redactor: Redactor) -> None:
    assert "[phone]" in redactor.redact("call +44 7700 900123", "xx").text
