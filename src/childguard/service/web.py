"""Server-rendered pages (console, report page, transparency): Jinja2 with autoescaping, one
stylesheet, no JavaScript, and strict security headers, so the pages work on old phones and a
script injection has nothing to run."""

from __future__ import annotations

import ipaddress
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..settings import Settings

_TEMPLATES = resources.files("childguard.service").joinpath("templates")
env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def render(name: str, status_code: int = 200, referrer: str = "no-referrer", **context: Any) -> HTMLResponse:
    """`referrer`: the console uses "same-origin" so that its own form posts carry an Origin to check
    (with "no-referrer" Chromium sends `Origin: null`); pages children see send no referrer anywhere."""
    html = env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={**SECURITY_HEADERS, "Referrer-Policy": referrer})


def accept_language(request: Request) -> str | None:
    """The browser's first language: the children's pages open in it when the link names none."""
    header = request.headers.get("accept-language", "")
    return header.split(",")[0].split(";")[0].strip() or None


def is_loopback(host: str | None) -> bool:
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return host == "localhost"


def cookie_secure(request: Request, settings: Settings) -> bool:
    """Secure cookies everywhere except plain-HTTP development on this machine."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    client = request.client.host if request.client else None
    return request.url.scheme == "https" or not is_loopback(client)


def same_origin(request: Request) -> bool:
    """A POST whose Origin (or Referer) names another site is refused, on top of the CSRF token."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return True  # not sent by every client; the CSRF token still has to match
    if origin == "null":
        return False
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1].split("/", 1)[0] == host
