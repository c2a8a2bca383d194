"""The error answers every route can give, declared in the OpenAPI document (schemathesis found 11
status codes the spec did not list). One envelope for all of them: {"error": {"code", "message"}}."""

from __future__ import annotations

from typing import Any

_ENVELOPE = {"application/json": {"schema": {"type": "object", "properties": {"error": {
    "type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    "required": ["code", "message"]}}, "required": ["error"]}}}

_WHY = {
    400: "the request could not be read (bad JSON, bad encoding)",
    401: "an API key is required (CHILDGUARD_API_KEYS) or was wrong",
    403: "forbidden: no parental consent for this profile, or a cross-site form",
    404: "no such resource, or an expired or unknown code",
    405: "method not allowed on this path",
    409: "conflict: the decision was already contested",
    413: "the request body or its text is over the limit",
    422: "invalid input: the message says which field",
    429: "too many requests from this key or address; see Retry-After",
    502: "the upstream model answered with an error (chat gateway)",
    503: "overloaded, or a store is unreachable; see Retry-After",
    504: "the upstream model did not answer in time (chat gateway)",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": why, "content": _ENVELOPE} for code, why in _WHY.items()}
