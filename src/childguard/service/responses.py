"""The one error shape of the HTTP service: {"error": {"code", "message"}}."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from ..fields import printable


def error_response(status: int, code: str, message: str, retry_after: int | None = None,
                   **extra: Any) -> JSONResponse:
    """`message` may quote what the client sent; it is made encodable so the error itself cannot fail."""
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"error": {"code": code, "message": printable(message)}, **extra}, status_code=status,
                        headers=headers)
