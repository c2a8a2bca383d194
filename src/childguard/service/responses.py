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
from .validation_messages import plain_problems

log = logging.getLogger("childguard.service")


def error_response(status: int, code: str, message: str, retry_after: int | None = None,
                   **extra: Any) -> JSONResponse:
    """`message` may quote what the client sent; it is made encodable so the error itself cannot fail."""
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse({"error": {"code": code, "message": printable(message)}, **extra}, status_code=status,
                        headers=headers)


def console_page(request: Request, status: int, title: str, text: str) -> Response | None:
    """Moderators meet errors as pages, not JSON: a console path gets the console's message page."""
    if request.url.path != "/console" and not request.url.path.startswith("/console/"):
        return None
    from .web import render

    return render("message.html", status_code=status, referrer="same-origin", me=None, title=title,
                  text=printable(text))


async def _cg_error(request: Request, exc: ChildGuardError) -> Response:
    page = console_page(request, exc.http_status, "Not possible", str(exc))
    if page is not None:
        return page
    return error_response(exc.http_status, exc.code, str(exc), retry_after=getattr(exc, "retry_after", None))


async def _unexpected(request: Request, exc: Exception) -> Response:
    # still the one error shape (the traceback goes to the log, never to the client)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    text = "something went wrong on our side; try again, and if it keeps happening tell the service operator"
    return console_page(request, 500, "Something went wrong", text.capitalize() + ".") or error_response(
        500, "internal_error", text)


async def _validation(request: Request, exc: RequestValidationError) -> Response:
    problems = plain_problems(exc.errors(), request.headers.get("content-type"))
    return console_page(request, 422, "Not accepted", problems) or error_response(
        422, "invalid_input", problems or "invalid request body")


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if isinstance(exc.__cause__, UnicodeDecodeError):  # FastAPI's "There was an error parsing the body"
        return error_response(400, "invalid_text", f"the request body is not valid UTF-8 (bad byte at offset "
                              f"{exc.__cause__.start}); send JSON encoded as UTF-8")
    codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
    page = console_page(request, exc.status_code, "Not found" if exc.status_code == 404 else "Not possible",
                        "There is no such page in the console." if exc.status_code == 404 else str(exc.detail))
    return page or error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


ERROR_HANDLERS: dict[int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]] = {
    ChildGuardError: _cg_error,
    Exception: _unexpected,
    RequestValidationError: _validation,
    StarletteHTTPException: _http_error,
}
