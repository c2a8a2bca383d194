"""The child's confidential report page (`/report`) and the same as a JSON API for apps (3d, 4j).

No account and no cookie: a report is anonymous unless the child chooses to leave a contact. The page
answers in the child's language (query, then browser preference), right to left where the language
is, and shows helplines for the chosen country at once, before any human has read the report."""

from __future__ import annotations

from typing import Annotated, Any

from babel import Locale
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..errors import ChildGuardError, StoreUnavailableError
from ..fields import Code
from ..reporting import KINDS, ReportReceipt, ReportRequest, ReportStatus
from .context import Services
from .web import render


def _accept_language(request: Request) -> str | None:
    header = request.headers.get("accept-language", "")
    return header.split(",")[0].split(";")[0].strip() or None


def report_router(services: Services) -> APIRouter:
    router = APIRouter()
    desk = services.desk
    countries = services.guard.directory.countries

    # countries with helplines, named in the child's language (CLDR via Babel) and sorted by that name;
    # computed once per page language rather than on every request
    names = {lang: sorted(((c, Locale.parse(lang).territories.get(c, c)) for c in countries),
                          key=lambda item: item[1]) for lang in desk.strings}

    def page(name: str, lang: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
        languages = [(code, desk.strings[code]["name"]) for code in desk.strings]
        form = extra.pop("form", {"kind": "", "message": "", "age": "", "country": "", "contact": ""})
        return render(name, status_code=status_code, lang=lang, t=desk.strings[lang], languages=languages,
                      countries=names[lang], form=form, **extra)

    async def submit(req: ReportRequest) -> ReportReceipt:
        """The receipt (helplines at once) whether or not the database answers: the report is stored, or
        spooled and stored once it is back (recorded: "spooled"). A child's report is never turned away
        for load: it waits for a decision worker instead of getting 503."""
        receipt, case = await services.decisions.run(desk.prepare, req, admitted=True)
        recorded, case_id = await services.recorder.record(case)
        return receipt.model_copy(update={"recorded": recorded, "case_id": case_id})

    async def lookup(code: str, lang: str | None) -> ReportStatus:
        try:
            return await services.store_pool.run(desk.status, code, lang)
        except StoreUnavailableError as exc:
            raise StoreUnavailableError(desk.strings[desk.lang(lang)]["status_unavailable"]) from exc

    @router.get("/report", response_class=HTMLResponse, include_in_schema=False)
    async def report_form(request: Request, lang: str | None = None) -> Response:
        return page("report.html", desk.lang(lang or _accept_language(request)), error=None)

    @router.post("/report", response_class=HTMLResponse, include_in_schema=False)
    async def report_submit(kind: Annotated[str, Form()] = "other", message: Annotated[str, Form()] = "",
                            age: Annotated[str, Form()] = "", country: Annotated[str, Form()] = "",
                            contact: Annotated[str, Form()] = "", lang: Annotated[str, Form()] = "en") -> Response:
        code = desk.lang(lang)
        kind, age, country = kind[:40], age[:40], country[:40]  # echoed into the form: bounded
        form = {"kind": kind, "message": message[:4000], "age": age, "country": country, "contact": contact[:200]}
        try:
            receipt = await submit(ReportRequest(kind=kind or "other", message=message[:4000], age=age or None,
                                                 lang=code, country=country or None, contact=contact[:200] or None))
        except ChildGuardError as exc:
            return page("report.html", code, status_code=exc.http_status if exc.http_status == 503 else 422,
                        error=str(exc), form=form)
        return page("report_done.html", code, receipt=receipt, helplines=receipt.helplines)

    @router.post("/report/status", response_class=HTMLResponse, include_in_schema=False)
    async def report_status_page(code: Annotated[str, Form(max_length=40)] = "",
                                 lang: Annotated[str, Form()] = "en") -> Response:
        """A POST, so the code never lands in the browser history of a shared family device."""
        lang = desk.lang(lang)
        try:
            status = await lookup(code, lang)
            text, ok, http = status.message, True, 200
        except ChildGuardError as exc:
            text, ok, http = str(exc), False, exc.http_status
        return page("report_done.html", lang, status_code=http, receipt=None, status_text=text, status_ok=ok,
                    helplines=services.guard.directory.lookup(None, None))

    @router.get("/v1/reports/form", tags=["reporting"])
    async def report_form_api(lang: Annotated[Code, Query()] = "en") -> dict[str, Any]:
        """Everything an app needs to build its own native report screen: texts in the child's language,
        the choices, the text direction and the countries with helplines."""
        code = desk.lang(lang)
        texts = desk.strings[code]
        return {"lang": code, "dir": texts.get("dir", "ltr"), "kinds": list(KINDS), "texts": texts,
                "countries": countries, "country_names": dict(names[code]),
                "languages": list(desk.strings)}

    @router.post("/v1/reports", status_code=201, response_model=ReportReceipt, tags=["reporting"])
    async def report_api(body: ReportRequest) -> JSONResponse:
        receipt = await submit(body)
        return JSONResponse(receipt.model_dump(mode="json"), status_code=201)

    @router.get("/v1/reports/{reference}", response_model=ReportStatus, tags=["reporting"])
    async def report_status_api(reference: Annotated[str, Path(max_length=40)],
                                lang: Annotated[Code, Query()] = "en") -> ReportStatus:
        return await lookup(reference, lang)

    return router
