"""Redaction that can be undone for the child only (issue 21, llm-guard's "vault").

The upstream model gets "my name is [private 1]"; the child sees "Hi Amy!" when the model answers
"Hi [private 1]!". The values live in this object for one turn, in memory: they are never sent
upstream and never stored (cases and excerpts are redacted on their own, from the child's text).
A value once redacted is also redacted wherever else it appears in the turn (an assistant message
that echoed the name, a tool-call argument, a `name` field), which patterns alone would miss."""

from __future__ import annotations

import re

from .redaction import PLACEHOLDER, redact_names, redact_personal_data

_MIN_ECHO = 3  # shorter values ("Al") would redact ordinary words when matched on their own
_PREFIX = "[private "


class RedactionVault:
    """`restore=False`: every value becomes the plain placeholder and nothing can be put back."""

    def __init__(self, restore: bool = True) -> None:
        self.restore_enabled = restore
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._name_words: set[str] = set()  # "Amy" of "Amy Smith": the model may greet the child by first name
        self._echo: re.Pattern[str] | None = None

    def _placeholder(self, value: str) -> str:
        if not self.restore_enabled:
            self._by_value.setdefault(value, PLACEHOLDER)
            self._echo = None
            return PLACEHOLDER
        if value not in self._by_value:
            placeholder = f"{_PREFIX}{len(self._by_value) + 1}]"
            self._by_value[value] = placeholder
            self._by_placeholder[placeholder] = value
            self._echo = None
        return self._by_value[value]

    def _name(self, value: str) -> str:
        placeholder = self._placeholder(value)
        words = value.split()
        if len(words) > 1:
            for word in words:
                if len(word) >= _MIN_ECHO:
                    self._name_words.add(word)
                    self._placeholder(word)
        return placeholder

    def add_name(self, name: str) -> None:
        """A name the client gave for the child (a message's `name` field, "Amy_Smith"): never sent, and
        removed where it appears in the conversation."""
        words = " ".join(name.replace("_", " ").replace("-", " ").split())
        if len(words) < _MIN_ECHO:
            return
        if " " not in words:
            self._name_words.add(words)
        self._name(words)

    def _echo_pattern(self) -> re.Pattern[str] | None:
        """Whole values in any case; single words of a name only as written or capitalised ("may" is a
        word, "May" may be the child)."""
        if self._echo is None:
            values = sorted((v for v in self._by_value if len(v.strip()) >= _MIN_ECHO), key=len, reverse=True)
            if not values:
                return None
            alternatives = [re.escape(v) if v in self._name_words else f"(?i:{re.escape(v)})" for v in values]
            alternatives += [re.escape(v[:1].upper() + v[1:]) for v in values if v in self._name_words]
            self._echo = re.compile("|".join(rf"(?<!\w)(?:{a})(?!\w)" for a in alternatives))
        return self._echo

    def redact(self, text: str) -> str:
        """The personal data patterns find, and every value already redacted this turn."""
        text = redact_personal_data(redact_names(text, self._name), self._placeholder)
        echo = self._echo_pattern()
        if echo is None:
            return text
        lowered = {v.lower(): p for v, p in self._by_value.items()}
        return echo.sub(lambda m: lowered.get(m.group(0).lower(), PLACEHOLDER), text)

    def restore(self, text: str) -> str:
        """`text` with this turn's placeholders put back (only for the child's eyes)."""
        if not self._by_placeholder or _PREFIX not in text:
            return text
        return re.sub(r"\[private \d{1,4}\]", lambda m: self._by_placeholder.get(m.group(0), m.group(0)), text)

    def safe_cut(self, text: str, cut: int) -> int:
        """A release point at or before `cut` that does not split a placeholder in two, so each released
        piece can be restored on its own."""
        if not self._by_placeholder:
            return cut
        start = text.rfind("[", max(0, cut - len(_PREFIX) - 5), cut)
        if start != -1 and "]" not in text[start:cut] and _PREFIX.startswith(text[start:cut][: len(_PREFIX)]):
            return start
        return cut

    @property
    def redacted(self) -> int:
        return len(self._by_value)
