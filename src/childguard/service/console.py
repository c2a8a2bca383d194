"""The moderators' console (4i): sign in, a queue ordered by severity and age, a case view with only
the redacted minimum, decisions with notes, the audit log and the false-alarm export for admins.

Sessions are server-side (cookie: random token, HttpOnly, SameSite=Strict, Secure off only for
plain-HTTP loopback development); every form carries a CSRF token bound to the session, and POSTs
from another origin are refused. Routes are plain `def`, so the store's blocking calls run in
FastAPI's thread pool instead of on the event loop."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import AuthError, ChildGuardError, ForbiddenError
from ..store.accounts import SessionInfo
from ..store.store import RESOLUTIONS
from .context import Services
from .web import SECURITY_HEADERS, cookie_secure, same_origin
from .web import render as _render

SESSION_COOKIE = "cg_session"
LOGIN_COOKIE = "cg_login_csrf"
RESOLUTION_LABELS = {"resolved": "Resolved", "false_alarm": "False alarm",
                     "referred_helpline": "Referred to a helpline", "referred_authority": "Referred to an authority"}


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return _render(name, status_code, referrer="same-origin", **context)


def console_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)
    accounts, store, settings = services.accounts, services.store, services.settings

    def who(request: Request) -> SessionInfo | None:
        return accounts.session(request.cookies.get(SESSION_COOKIE))

    def to_login() -> RedirectResponse:
        return RedirectResponse("/console/login", status_code=303)

    def check_post(request: Request, session: SessionInfo, csrf: str) -> None:
        if not same_origin(request) or not secrets.compare_digest(csrf or "", session.csrf):
            raise ForbiddenError("the form is out of date or came from another site; reload the page and try again")

    def category_name(c: str) -> str:
        return c.replace("_", " ").capitalize()

    common: dict[str, Any] = {"category_name": category_name, "labels": RESOLUTION_LABELS}

    @router.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> Response:
        token = secrets.token_urlsafe(24)
        response = render("login.html", csrf=token, error=None)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/console",
                            secure=cookie_secure(request, settings), max_age=1800)
        return response

    @router.post("/login", response_class=HTMLResponse)
    def login(request: Request, username: Annotated[str, Form(max_length=64)],
              password: Annotated[str, Form(max_length=1024)], csrf: Annotated[str, Form()] = "") -> Response:
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not same_origin(request) or not expected or not secrets.compare_digest(csrf, expected):
            return render("login.html", status_code=403, csrf=expected or secrets.token_urlsafe(24),
                          error="The sign-in form expired. Please try again.")
        try:
            token, _ = accounts.login(username, password, request.client.host if request.client else None)
        except AuthError as exc:
            return render("login.html", status_code=401, csrf=expected, error=str(exc).capitalize() + ".")
        response = RedirectResponse("/console", status_code=303)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/console",
                            secure=cookie_secure(request, settings), max_age=int(settings.session_hours * 3600))
        response.delete_cookie(LOGIN_COOKIE, path="/console")
        return response

    @router.post("/logout")
    def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        session = who(request)
        if session is not None:
            check_post(request, session, csrf)
            accounts.logout(request.cookies.get(SESSION_COOKIE, ""))
        response = to_login()
        response.delete_cookie(SESSION_COOKIE, path="/console")
        return response

    @router.get("", response_class=HTMLResponse)
    def queue(request: Request, status: str = "open", decided: int | None = None) -> Response:
        session = who(request)
        if session is None:
            return to_login()
        status = status if status in ("open", "closed") else "open"
        cases = store.queue(status)
        return render("queue.html", me=session, cases=cases, status=status, decided=decided, **common)

    @router.get("/cases/{case_id}", response_class=HTMLResponse)
    def case(request: Request, case_id: int) -> Response:
        session = who(request)
        if session is None:
            return to_login()
        try:
            data = store.view(case_id, session.username)  # logged: who opened which case
        except ChildGuardError as exc:
            return render("message.html", status_code=exc.http_status, me=session, title="Not found", text=str(exc))
        return render("case.html", me=session, case=data, resolutions=RESOLUTIONS, **common)

    @router.post("/cases/{case_id}/decision")
    def decide(request: Request, case_id: int, resolution: Annotated[str, Form()],
               notes: Annotated[str, Form(max_length=2000)] = "", csrf: Annotated[str, Form()] = "") -> Response:
        session = who(request)
        if session is None:
            return to_login()
        try:
            check_post(request, session, csrf)
            store.decide(case_id, session.username, resolution, notes)
        except ChildGuardError as exc:
            return render("message.html", status_code=exc.http_status, me=session, title="Not saved", text=str(exc))
        return RedirectResponse("/console?decided=" + str(case_id), status_code=303)

    def admin(request: Request, why: str) -> SessionInfo | Response:
        """The signed-in admin, or the response to send instead (sign-in page, or 'admins only')."""
        session = who(request)
        if session is None:
            return to_login()
        if not session.is_admin:
            return render("message.html", status_code=403, me=session, title="Admins only", text=why)
        return session

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request) -> Response:
        session = admin(request, "The audit log is for admins. Ask an admin if you need an entry checked.")
        if isinstance(session, Response):
            return session
        store.audit(session.username, "audit_log_viewed")
        entries = list(reversed(store.audit_log()))[:500]
        return render("audit.html", me=session, entries=entries, intact=store.verify_audit_log())

    @router.get("/export/false-alarms.jsonl")
    def export(request: Request) -> Response:
        session = admin(request, "Exports of children's (redacted) words are for admins.")
        if isinstance(session, Response):
            return session
        rows = store.false_alarms(session.username)
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        headers = {**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="false_alarms.jsonl"'}
        return Response(body, media_type="application/x-ndjson", headers=headers)

    return router
