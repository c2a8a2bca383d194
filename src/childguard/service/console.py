"""The moderators' console (4i): sign in, a queue ordered by severity and age, a case view with only
the redacted minimum, decisions with notes, the audit log and the false-alarm export for admins.

Sessions are server-side (cookie: random token, HttpOnly, SameSite=Strict, Secure off only for
plain-HTTP loopback development); every form carries a CSRF token bound to the session, and POSTs
from another origin are refused. Routes are plain `def`, so the store's blocking calls run in
FastAPI's thread pool instead of on the event loop."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..conversation.stages import STAGES
from ..errors import AuthError, ChildGuardError, ForbiddenError, InvalidInputError, NotFoundError
from ..store.accounts import SessionInfo
from ..store.store import RESOLUTIONS
from .context import ServicesDep
from .web import SECURITY_HEADERS, cookie_secure, same_origin
from .web import render as _render

SESSION_COOKIE = "cg_session"
LOGIN_COOKIE = "cg_login_csrf"
DEVICE_COOKIE = "cg_device"  # trusted_devices.py: lets the owner sign in while others guess
RESOLUTION_LABELS = {"resolved": "Resolved", "false_alarm": "False alarm",
                     "referred_helpline": "Referred to a helpline", "referred_authority": "Referred to an authority"}


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return _render(name, status_code, referrer="same-origin", **context)


def category_name(c: str) -> str:
    return c.replace("_", " ").capitalize()


def stage_name(stage: str) -> str:
    """A grooming stage as the conversation API's evidence words it ("questions about age")."""
    known = STAGES.get(stage)
    return known.description if known else stage.replace("_", " ")


ROLE_NAMES = {"child": "child's message", "contact": "contact's message", "ai_output": "model's answer"}


def role_name(role: str) -> str:
    """Whose words a timeline entry is: a chat case joins the child's messages and the model's answers."""
    return ROLE_NAMES.get(role, role)


COMMON: dict[str, Any] = {"category_name": category_name, "stage_name": stage_name, "role_name": role_name,
                          "labels": RESOLUTION_LABELS}


def signed_in(request: Request, services: ServicesDep) -> SessionInfo | None:
    """Plain `def`: the session lookup is a blocking store call, so it runs in the thread pool."""
    return services.accounts.session(request.cookies.get(SESSION_COOKIE))


SignedIn = Annotated[SessionInfo | None, Depends(signed_in)]


@dataclass(frozen=True, slots=True)
class PostedForm:
    """A console form post and the CSRF token it carried. Checked by the route, after it knows who is
    signed in, so each route keeps its own answer to a stale form."""

    request: Request
    csrf: str

    def check(self, session: SessionInfo) -> None:
        if not same_origin(self.request) or not secrets.compare_digest(self.csrf or "", session.csrf):
            raise ForbiddenError("the form is out of date or came from another site; reload the page and try again")


async def posted_form(request: Request, csrf: Annotated[str, Form()] = "") -> PostedForm:
    return PostedForm(request, csrf)


Posted = Annotated[PostedForm, Depends(posted_form)]


def to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


def admin(session: SessionInfo | None, why: str) -> SessionInfo | Response:
    """The signed-in admin, or the response to send instead (sign-in page, or 'admins only')."""
    if session is None:
        return to_login()
    if not session.is_admin:
        return render("message.html", status_code=403, me=session, title="Admins only", text=why)
    return session


router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, services: ServicesDep) -> Response:
    token = secrets.token_urlsafe(24)
    response = render("login.html", csrf=token, error=None)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/console",
                        secure=cookie_secure(request, services.settings), max_age=1800)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, services: ServicesDep, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1024)], csrf: Annotated[str, Form()] = "") -> Response:
    settings = services.settings
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not same_origin(request) or not expected or not secrets.compare_digest(csrf, expected):
        return render("login.html", status_code=403, csrf=expected or secrets.token_urlsafe(24),
                      error="The sign-in form expired. Please try again.")
    try:
        token, _ = services.accounts.login(username, password, request.client.host if request.client else None,
                                           device=request.cookies.get(DEVICE_COOKIE))
    except AuthError as exc:
        return render("login.html", status_code=401, csrf=expected, error=str(exc).capitalize() + ".")
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/console",
                        secure=cookie_secure(request, settings), max_age=int(settings.session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    # this browser is known to the account from now on: others' failed sign-ins do not make it wait
    response.set_cookie(DEVICE_COOKIE, services.accounts.device_token(username), httponly=True, samesite="strict",
                        path="/console/login", secure=cookie_secure(request, settings), max_age=180 * 86400)
    return response


@router.post("/logout")
def logout(request: Request, services: ServicesDep, session: SignedIn, form: Posted) -> Response:
    if session is not None:
        form.check(session)
        services.accounts.logout(request.cookies.get(SESSION_COOKIE, ""))
    response = to_login()
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response


@router.get("", response_class=HTMLResponse)
def queue(services: ServicesDep, session: SignedIn, status: str = "open", decided: int | None = None) -> Response:
    if session is None:
        return to_login()
    status = status if status in ("open", "closed") else "open"
    cases = services.store.queue(status)
    return render("queue.html", me=session, cases=cases, status=status, decided=decided, **COMMON)


def case_number(raw: str) -> int:
    """Case ids in links are typed by people too: `/console/cases/abc` is a page saying so, not JSON."""
    if not raw.isdecimal() or len(raw) > 12:
        raise NotFoundError(f"there is no case {raw[:40]!r}: case numbers are whole numbers like 42")
    return int(raw)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case(case_id: str, services: ServicesDep, session: SignedIn) -> Response:
    if session is None:
        return to_login()
    try:
        data = services.store.view(case_number(case_id), session.username)  # logged: who opened which case
    except ChildGuardError as exc:
        return render("message.html", status_code=exc.http_status, me=session, title="Not found", text=str(exc))
    return render("case.html", me=session, case=data, resolutions=RESOLUTIONS, **COMMON)


@router.post("/cases/{case_id}/decision")
def decide(case_id: str, services: ServicesDep, session: SignedIn, form: Posted,
           resolution: Annotated[str, Form()] = "", notes: Annotated[str, Form(max_length=2000)] = "") -> Response:
    if session is None:
        return to_login()
    try:
        form.check(session)
        if not resolution:
            raise InvalidInputError("choose a decision (resolved, false alarm, or a referral) before saving")
        services.store.decide(case_number(case_id), session.username, resolution, notes)
    except ChildGuardError as exc:
        return render("message.html", status_code=exc.http_status, me=session, title="Not saved", text=str(exc))
    return RedirectResponse("/console?decided=" + str(case_id), status_code=303)


@router.get("/audit", response_class=HTMLResponse)
def audit(services: ServicesDep, session: SignedIn) -> Response:
    admin_session = admin(session, "The audit log is for admins. Ask an admin if you need an entry checked.")
    if isinstance(admin_session, Response):
        return admin_session
    store = services.store
    store.audit(admin_session.username, "audit_log_viewed")
    entries = list(reversed(store.audit_log()))[:500]
    return render("audit.html", me=admin_session, entries=entries, intact=store.verify_audit_log())


@router.get("/export/false-alarms.jsonl")
def export(services: ServicesDep, session: SignedIn) -> Response:
    admin_session = admin(session, "Exports of children's (redacted) words are for admins.")
    if isinstance(admin_session, Response):
        return admin_session
    rows = services.store.false_alarms(admin_session.username)
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    headers = {**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="false_alarms.jsonl"'}
    return Response(body, media_type="application/x-ndjson", headers=headers)
