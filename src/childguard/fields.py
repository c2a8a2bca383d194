"""String types for everything a request can send, checked before anything echoes it back.

JSON allows an escaped lone surrogate ("\\ud800"), which Python decodes to a `str` that cannot be encoded
as UTF-8: echoed in a response or written to the database, it crashes the request. Every string a
client sends is therefore valid Unicode and of a sane length here, at the edge, with a 422 that names the
field. Message texts keep their own, richer check (`inputs.validate_text`: `invalid_text`, `text_too_long`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

from .errors import InvalidInputError, RequestTooLargeError


def is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unicode(value: str) -> str:
    if not is_unicode(value):
        raise ValueError("must be valid Unicode text (it holds a lone surrogate such as \\ud800)")
    return value


def printable(text: str) -> str:
    """`text` safe to put in a response: lone surrogates shown as escapes instead of crashing."""
    return text if is_unicode(text) else text.encode("utf-8", "backslashreplace").decode("utf-8")


# identifiers: profiles, conversations, senders, models, reference codes
Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(_unicode)]
# short codes: language, country, role, kind, age band
Code = Annotated[str, StringConstraints(max_length=64), AfterValidator(_unicode)]
# free text a person typed (a contact, a note); message texts are checked by the guard instead
Prose = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_unicode)]


def check_json(value: Any, budget: int, where: str = "body") -> int:
    """Walk a parsed JSON body (the gateway takes OpenAI's open-ended format): every string must be valid
    Unicode and all of them together at most `budget` characters. Returns the characters counted."""
    total = 0
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not is_unicode(item):
                raise InvalidInputError(f"{path}: must be valid Unicode text (it holds a lone surrogate)")
            total += len(item)
        elif isinstance(item, dict):
            for key, sub in item.items():
                if not is_unicode(str(key)):
                    raise InvalidInputError(f"{path}: a key is not valid Unicode text (lone surrogate)")
                total += len(key)
                stack.append((f"{path}.{key}", sub))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", sub) for i, sub in enumerate(item))
        if total > budget:
            raise RequestTooLargeError(f"the request holds more than {budget} characters of text; send less "
                                       "per request (CHILDGUARD_MAX_REQUEST_CHARS)")
    return total


def check_budget(texts: list[str], budget: int) -> None:
    total = sum(len(t) for t in texts if isinstance(t, str))
    if total > budget:
        raise RequestTooLargeError(f"the request holds {total} characters of text, more than {budget}; send "
                                   "fewer or shorter texts per request (CHILDGUARD_MAX_REQUEST_CHARS)")
