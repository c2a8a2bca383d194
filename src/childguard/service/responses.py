"""The one error shape of the HTTP service: {"error": {"code", "message"}}, and the exception handlers
that put every failure into it (the service's own errors, validation, routing and the unexpected)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ChildGuardError
from ..fields import printable

log = logging.getLogger("childguard.service")


def error_response(status: int, code: str, message: str, retry_after: int | None = None,
                   **extra: Any) -> JSONResponse:
    """`message` may quote what the client sent; it is made encodable so the error itself cannot fail."""
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"error": {"code": code, "message": printable(message)}, **extra}, status_code=status,
                        headers=headers)


async def _cg_error(request: Request, exc: ChildGuardError) -> JSONResponse:
    return error_response(exc.http_status, exc.code, str(exc), retry_after=getattr(exc, "retry_after", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # still the one error shape (the traceback goes to the log, never to the client)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "something went wrong on our side; try again, and if it "
                          "keeps happening tell the service operator")


async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
    return error_response(422, "invalid_input", problems or "invalid request body")


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
    return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


ERROR_HANDLERS: dict[int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]] = {
    ChildGuardError: _cg_error,
    Exception: _unexpected,
    RequestValidationError: _validation,
    StarletteHTTPException: _http_error,
}
