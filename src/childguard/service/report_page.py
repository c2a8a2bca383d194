"""The child's confidential report page (`/report`) and the same as a JSON API for apps (3d, 4j).

No account and no cookie: a report is anonymous unless the child chooses to leave a contact. The page
answers in the child's language (query, then browser preference), right to left where the language
is, and shows helplines for the chosen country at once, before any human has read the report."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from babel import Locale
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..decision import Resource
from ..errors import ChildGuardError, ReportLimitError, StoreUnavailableError
from ..fields import Code
from ..helplines import normalize_country
from ..reporting import KINDS, ReportReceipt, ReportRequest, ReportStatus
from .context import Services, ServicesDep
from .responses import error_response
from .web import accept_language, render


@lru_cache(maxsize=64)
def _country_names(lang: str, countries: tuple[str, ...]) -> list[tuple[str, str]]:
    """Countries with helplines, named in the child's language (CLDR via Babel) and sorted by that name;
    computed once per page language rather than on every request."""
    return sorted(((c, Locale.parse(lang).territories.get(c, c)) for c in countries), key=lambda item: item[1])


def _countries(services: Services) -> tuple[str, ...]:
    return tuple(services.guard.directory.countries)


def _page(services: Services, name: str, lang: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
    desk = services.desk
    languages = [(code, desk.strings[code]["name"]) for code in desk.strings]
    form = extra.pop("form", {"kind": "", "message": "", "age": "", "country": "", "contact": ""})
    return render(name, status_code=status_code, lang=lang, t=desk.strings[lang], languages=languages,
                  countries=_country_names(lang, _countries(services)), form=form, **extra)


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _submit(services: Services, req: ReportRequest, address: str) -> ReportReceipt:
    """The receipt (helplines at once) whether or not the database answers: the report is stored, or
    spooled and stored once it is back (recorded: "spooled"). A child's report is never turned away
    for load: it waits for a decision worker instead of getting 503. An address past its report budget
    (report_flood.py; never on its first report) gets ReportLimitError, which the routes answer with
    the helplines."""
    services.report_admission.admit(address)
    receipt, case = await services.decisions.run(services.desk.prepare, req, admitted=True)
    recorded, case_id = await services.recorder.record(case)
    return receipt.model_copy(update={"recorded": recorded, "case_id": case_id})


async def _lookup(services: Services, code: str, lang: str | None) -> ReportStatus:
    desk = services.desk
    try:
        return await services.store_pool.run(desk.status, code, lang)
    except StoreUnavailableError as exc:
        raise StoreUnavailableError(desk.strings[desk.lang(lang)]["status_unavailable"]) from exc


router = APIRouter()


@router.get("/report", response_class=HTMLResponse, include_in_schema=False)
async def report_form(request: Request, services: ServicesDep, lang: str | None = None) -> Response:
    return _page(services, "report.html", services.desk.lang(lang or accept_language(request)), error=None)


@router.post("/report", response_class=HTMLResponse, include_in_schema=False)
async def report_submit(request: Request, services: ServicesDep, kind: Annotated[str, Form()] = "other",
                        message: Annotated[str, Form()] = "", age: Annotated[str, Form()] = "",
                        country: Annotated[str, Form()] = "", contact: Annotated[str, Form()] = "",
                        lang: Annotated[str, Form()] = "en") -> Response:
    code = services.desk.lang(lang)
    kind, age, country = kind[:40], age[:40], country[:40]  # echoed into the form: bounded
    form = {"kind": kind, "message": message[:4000], "age": age, "country": country, "contact": contact[:200]}
    try:
        receipt = await _submit(services, ReportRequest(kind=kind or "other", message=message[:4000],
                                                        age=age or None, lang=code, country=country or None,
                                                        contact=contact[:200] or None), _address(request))
    except ReportLimitError as exc:
        return _page(services, "report_done.html", code, status_code=429, receipt=None, status_text=str(exc),
                     status_ok=False, helplines=_helplines(services, kind, country))
    except ChildGuardError as exc:
        return _page(services, "report.html", code, status_code=exc.http_status if exc.http_status == 503 else 422,
                     error=str(exc), form=form)
    return _page(services, "report_done.html", code, receipt=receipt, helplines=receipt.helplines)


@router.post("/report/status", response_class=HTMLResponse, include_in_schema=False)
async def report_status_page(services: ServicesDep, code: Annotated[str, Form(max_length=40)] = "",
                             lang: Annotated[str, Form()] = "en") -> Response:
    """A POST, so the code never lands in the browser history of a shared family device."""
    lang = services.desk.lang(lang)
    try:
        status = await _lookup(services, code, lang)
        text, ok, http = status.message, True, 200
    except ChildGuardError as exc:
        text, ok, http = str(exc), False, exc.http_status
    return _page(services, "report_done.html", lang, status_code=http, receipt=None, status_text=text,
                 status_ok=ok, helplines=services.guard.directory.lookup(None, None))


@router.get("/v1/reports/form", tags=["reporting"])
async def report_form_api(services: ServicesDep, lang: Annotated[Code, Query()] = "en") -> dict[str, Any]:
    """Everything an app needs to build its own native report screen: texts in the child's language,
    the choices, the text direction and the countries with helplines."""
    desk = services.desk
    code = desk.lang(lang)
    texts = desk.strings[code]
    countries = _countries(services)
    return {"lang": code, "dir": texts.get("dir", "ltr"), "kinds": list(KINDS), "texts": texts,
            "countries": list(countries), "country_names": dict(_country_names(code, countries)),
            "languages": list(desk.strings)}


def _helplines(services: Services, kind: str, country: str | None) -> list[Resource]:
    try:
        return services.guard.directory.lookup(normalize_country(country) if country else None, KINDS.get(kind))
    except ChildGuardError:
        return services.guard.directory.lookup(None, KINDS.get(kind))


@router.post("/v1/reports", status_code=201, response_model=ReportReceipt, tags=["reporting"],
             responses={429: {"description": "too many reports from this address; the body carries the helplines"}})
async def report_api(body: ReportRequest, request: Request, services: ServicesDep) -> JSONResponse:
    try:
        receipt = await _submit(services, body, _address(request))
    except ReportLimitError as exc:
        helplines = [h.model_dump(mode="json") for h in _helplines(services, body.kind, body.country)]
        return error_response(429, exc.code, str(exc), retry_after=exc.retry_after, helplines=helplines)
    return JSONResponse(receipt.model_dump(mode="json"), status_code=201)


@router.get("/v1/reports/{reference}", response_model=ReportStatus, tags=["reporting"])
async def report_status_api(reference: Annotated[str, Path(max_length=40)], services: ServicesDep,
                            lang: Annotated[Code, Query()] = "en") -> ReportStatus:
    return await _lookup(services, reference, lang)
