"""The contest page (`/contest`) and API (`/v1/contests`): a child whose message was stopped says "I
think this was a mistake" (3i, 8a). Like the report page: no account, no cookie, no JavaScript, the
child's language (right to left for Arabic), and a reference code to follow up by POST, so the code
never lands in a shared device's history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ..contesting import ContestDesk, ContestReceipt, ContestRequest, ContestStatus
from ..errors import ChildGuardError
from ..store.contests import MAX_NOTE
from .context import ServicesDep
from .web import accept_language, render

router = APIRouter()


def _page(desk: ContestDesk, name: str, lang: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
    languages = [(code, desk.strings[code]["name"]) for code in desk.strings]
    return render(name, status_code=status_code, lang=lang, t=desk.strings[lang], languages=languages,
                  max_note=MAX_NOTE, **extra)


async def get_desk(services: ServicesDep) -> ContestDesk:
    return services.contest_desk


Desk = Annotated[ContestDesk, Depends(get_desk)]


@router.get("/contest", response_class=HTMLResponse, include_in_schema=False)
def contest_form(request: Request, desk: Desk, token: str = "", lang: str | None = None) -> Response:
    code = desk.lang(lang or accept_language(request))
    if token:
        try:
            desk.check(token[:64], code)
        except ChildGuardError as exc:  # said now, not after the child has written why
            return _page(desk, "contest.html", code, status_code=exc.http_status, token=token[:64], error=str(exc),
                         note="", token_bad=True)
    return _page(desk, "contest.html", code, token=token[:64], error=None, note="")


@router.post("/contest", response_class=HTMLResponse, include_in_schema=False)
def contest_submit(desk: Desk, token: Annotated[str, Form(max_length=64)] = "", message: Annotated[str, Form()] = "",
                   lang: Annotated[str, Form()] = "en") -> Response:
    code = desk.lang(lang)
    try:
        receipt = desk.submit(ContestRequest(token=token or "-", message=message[:MAX_NOTE], lang=code))
    except ChildGuardError as exc:
        return _page(desk, "contest.html", code, status_code=exc.http_status, token=token, error=str(exc),
                     note=message[:MAX_NOTE])
    return _page(desk, "contest_done.html", code, receipt=receipt)


@router.post("/contest/status", response_class=HTMLResponse, include_in_schema=False)
def contest_status_page(desk: Desk, code: Annotated[str, Form(max_length=40)] = "",
                        lang: Annotated[str, Form()] = "en") -> Response:
    lang = desk.lang(lang)
    try:
        status = desk.status(code, lang)
        text, ok, http = status.message, True, 200
    except ChildGuardError as exc:
        text, ok, http = str(exc), False, exc.http_status
    return _page(desk, "contest_done.html", lang, status_code=http, receipt=None, status_text=text, status_ok=ok)


@router.get("/v1/contests/form", tags=["contests"])
def contest_form_api(desk: Desk, lang: str = "en") -> dict[str, Any]:
    """The texts an app needs to build its own "was this a mistake?" screen (check a token first with
    GET /v1/contests/tokens/{token})."""
    code = desk.lang(lang)
    return {"lang": code, "dir": desk.strings[code]["dir"], "texts": desk.strings[code],
            "languages": list(desk.strings), "max_message_chars": MAX_NOTE}


@router.post("/v1/contests", status_code=201, response_model=ContestReceipt, tags=["contests"])
async def contest_api(body: ContestRequest, desk: Desk) -> JSONResponse:
    receipt = await run_in_threadpool(desk.submit, body)
    return JSONResponse(receipt.model_dump(mode="json"), status_code=201)


@router.get("/v1/contests/tokens/{token}", tags=["contests"])
def contest_token_api(token: str, desk: Desk, lang: str = "en") -> dict[str, bool]:
    """Whether a token can still be contested (404 expired, 409 already contested, 422 not valid), so an
    app can say so before the child writes a reason."""
    desk.check(token[:64], lang)
    return {"contestable": True}


@router.get("/v1/contests/{reference}", response_model=ContestStatus, tags=["contests"])
def contest_status_api(reference: str, desk: Desk, lang: str = "en") -> ContestStatus:
    return desk.status(reference, lang)
