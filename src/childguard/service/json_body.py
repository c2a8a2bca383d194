"""JSON request bodies read by hand (the chat gateway takes any OpenAI-shaped body), with the limits
FastAPI's own parsing lacks: a nesting depth bound (a body nested 1,000 deep raised RecursionError, a
500) checked by a linear scan before the parser recurses."""

from __future__ import annotations

import json
from typing import Any

from ..errors import InvalidInputError

MAX_DEPTH = 64


def nesting_depth(raw: bytes) -> int:
    """The deepest [ / { nesting outside strings, in one pass."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def parse_object(raw: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The body as a JSON object, or InvalidInputError (400) saying what is wrong with it."""
    if nesting_depth(raw) > max_depth:
        raise InvalidInputError(f"request body is nested deeper than {max_depth} levels; send a flatter JSON object")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidInputError(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidInputError("request body must be a JSON object")
    return body
