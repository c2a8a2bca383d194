"""When two moderator names are the same name (4i: the audit log must say who looked at a child's
words): "Alice", "ALICE", "aIice" (capital i) and "alice." read as one person in a log or a console
header, so they may not be two accounts. The skeleton folds case, maps the ASCII look-alikes of
Unicode's confusables table (UTS #39: l/I/1/|, o/0, rn/m, vv/w, cl/d) and drops the separators."""

from __future__ import annotations

import unicodedata

_SEPARATORS = str.maketrans("", "", "._-@ ")
_SINGLE = str.maketrans({"1": "l", "i": "l", "|": "l", "!": "l", "0": "o", "5": "s", "$": "s"})
_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))


def skeleton(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold().translate(_SEPARATORS).translate(_SINGLE)
    for pair, one in _PAIRS:
        folded = folded.replace(pair, one)
    return folded


def look_alike(name: str, existing: list[str]) -> str | None:
    """The first existing name `name` would be confused with, or None."""
    mine = skeleton(name)
    return next((other for other in existing if skeleton(other) == mine), None)
