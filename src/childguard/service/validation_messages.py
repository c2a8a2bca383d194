"""Request validation errors in plain words. Pydantic describes each branch of a union it tried
("age.int: Input should be a valid integer ...; age.function-after[_unicode(), constrained-str]: ...")
and FastAPI reports a body it could not read as "body: Input should be a valid dictionary"; a developer
integrating a children's service should read one sentence per field that says what to send."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..agebands import AgeBand
from ..errors import ChildGuardError
from ..inputs import parse_age, parse_role

_BRANCH = re.compile(r"^[a-z_-]+(\[.*\])?$")  # union branch tags: int, str, function-after[...], constrained-str
# plain type names only: a field may well be called "model" (OpenAI's) or "union", never "int"
_BRANCH_NAMES = {"int", "str", "float", "bool", "list", "dict", "none", "bytes", "constrained-str", "constrained-int",
                 "tagged-union", "json-or-python", "lax-or-strict"}
_BODY_NOT_OBJECT = {"dict_type", "model_attributes_type", "model_type", "dict_attributes_type"}
_JSON_TYPES = ("application/json", "+json")
# fields whose own parser words the error, so every surface says the same about a bad age or role
_FIELD_PARSERS: dict[str, Any] = {"age": lambda v: parse_age(v, AgeBand.ADULT), "role": parse_role}


def _is_branch(part: object) -> bool:
    return isinstance(part, str) and (part in _BRANCH_NAMES or ("[" in part and bool(_BRANCH.match(part))))


def _field(loc: Sequence[Any]) -> str:
    parts = [p for p in loc[1:] if not _is_branch(p)] if loc and loc[0] in ("body", "query", "path") else list(loc)
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _json_body(content_type: str | None) -> bool:
    ct = (content_type or "").split(";")[0].strip().lower()
    return ct == _JSON_TYPES[0] or ct.endswith(_JSON_TYPES[1])


def _sentence(field: str, error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "missing":
        return f"{field} is required"
    if kind == "extra_forbidden":
        return f"{field} is not a field of this request; remove it"
    msg = str(error.get("msg", "is not valid"))
    msg = re.sub(r"^(Input|String|List|Value) should", "should", msg)
    msg = msg.replace("Value error, ", "")
    return f"{field} {msg[0].lower() + msg[1:]}" if msg else f"{field} is not valid"


def plain_problems(errors: Sequence[Mapping[str, Any]], content_type: str | None) -> str:
    """One sentence per field (the first error of each), joined; the body-level problems first."""
    sentences: list[str] = []
    seen: set[str] = set()
    for e in errors:
        loc = tuple(e.get("loc", ()))
        kind = str(e.get("type", ""))
        if kind == "json_invalid":
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            detail = (e.get("ctx") or {}).get("error", "")
            detail = f": {detail}" if detail else ""
            sentences.append(f"the body is not valid JSON{where}{detail}; send one JSON object")
            continue
        if loc == ("body",):
            if kind == "missing":
                sentences.append("the request needs a JSON body (Content-Type: application/json)")
            elif kind in _BODY_NOT_OBJECT and not _json_body(content_type):
                sentences.append("send the body as JSON with the header Content-Type: application/json "
                                 f"(this request said {content_type!r})" if content_type else
                                 "send the body as JSON with the header Content-Type: application/json "
                                 "(this request had no Content-Type)")
            else:
                sentences.append("the body must be a JSON object with the fields of this API (see /docs)")
            continue
        field = _field(loc) or "the request"
        if field in seen:
            continue  # the other branches of the same union say nothing more
        seen.add(field)
        parser = _FIELD_PARSERS.get(field.rsplit(".", 1)[-1])
        if parser is not None and "input" in e:
            try:
                parser(e["input"])
            except ChildGuardError as exc:
                sentences.append(f"{field}: {exc}")
                continue
        sentences.append(_sentence(field, e))
    return "; ".join(dict.fromkeys(sentences)) or "the request is not valid"
