"""FastAPI application: health and readiness, and the OpenAI-compatible moderation endpoint with the
child protection decision added under `childguard` (existing OpenAI clients keep working)."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..decision import Decision
from ..errors import InvalidInputError, StoreUnavailableError
from ..fields import Code, Name, check_budget
from ..guard import Guard
from ..jurisdictions import apply_jurisdiction
from ..policy import Action
from ..settings import Settings, get_settings
from ..store import Store
from ..store.contests import contestable
from ..store.records import CaseRecord
from . import consent_api, console, contest_page, conversation_api, report_page, transparency
from .auth import ApiKeyAuth
from .context import Services
from .gateway import Gateway
from .jobs import Jobs
from .limits import BodySizeLimit, RateLimit
from .responses import ERROR_HANDLERS, error_response

log = logging.getLogger("childguard.service")

# OpenAI moderation categories -> the childguard categories whose scores feed them (max)
OPENAI_CATEGORIES: dict[str, tuple[str, ...]] = {
    "harassment": ("cyberbullying",),
    "harassment/threatening": ("sextortion",),
    "hate": ("hate",),
    "hate/threatening": ("extremism",),
    "illicit": ("drugs_alcohol", "gambling", "child_labour_trafficking"),
    "illicit/violent": ("weapons",),
    "self-harm": ("self_harm", "eating_disorder", "dangerous_challenge"),
    "self-harm/intent": ("self_harm",),
    "self-harm/instructions": ("eating_disorder", "dangerous_challenge"),
    "sexual": ("sexual_content",),
    "sexual/minors": ("sexual_minors", "grooming", "sextortion"),
    "violence": ("violence",),
    "violence/graphic": ("violence",),
}


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input: str | list[str] = Field(description="a text or a list of texts (OpenAI format)")
    model: Name | None = None
    age: int | Code | None = Field(None, description="child's age or AADC band (childguard extension)")
    lang: Code | None = None
    role: Code = "child"
    country: Code | None = None
    profile: Name | None = Field(None, description="child profile id: lets consent withdrawal delete the review "
                                 "cases this request opens (childguard extension)")


class ModerationResult(BaseModel):
    flagged: bool
    categories: dict[str, bool]
    category_scores: dict[str, float]
    childguard: Decision
    recorded: Literal["stored", "spooled"] | None = Field(
        None, description="for escalations: the review case is in the database, or safely spooled on this "
        "host while the database is unreachable (written there once it answers); null when no case is opened")


class ModerationResponse(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]


def to_openai(decision: Decision) -> ModerationResult:
    scores = {name: round(max(decision.scores[c] for c in cats), 4) for name, cats in OPENAI_CATEGORIES.items()}
    flagged_set = set(decision.flagged)
    categories = {name: bool(flagged_set & set(cats)) for name, cats in OPENAI_CATEGORIES.items()}
    return ModerationResult(flagged=decision.action.rank >= Action.REDIRECT.rank, categories=categories,
                            category_scores=scores, childguard=decision)


def create_app(settings: Settings | None = None, guard: Guard | None = None, store: Store | None = None) -> FastAPI:
    configured = settings or get_settings()
    settings, jurisdiction = apply_jurisdiction(configured)  # the profile fills what the operator left unset
    guard = guard or Guard(settings)
    guard.warm_up()
    store = store or Store(settings)
    services = Services(settings, guard, store, jurisdiction=jurisdiction,
                        consent_overridden="require_consent" in configured.model_fields_set)
    gateway = Gateway(services)
    jobs = Jobs(services)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        yield
        await jobs.stop()
        await gateway.close()
        services.shutdown()

    app = FastAPI(title="childguard", version=__version__, lifespan=lifespan, exception_handlers=ERROR_HANDLERS,
                  description="A child protection mode for AI products (UN Joint Statement on AI and the Rights "
                              "of the Child, 2026).")

    @app.get("/", tags=["operations"])
    async def index() -> dict[str, Any]:
        return {"service": "childguard", "version": __version__,
                "pages": {"report": "/report", "contest": "/contest", "transparency": "/transparency",
                          "console": "/console", "api_docs": "/docs"},
                "apis": ["/v1/moderations", "/v1/chat/completions", "/v1/conversations/messages", "/v1/reports",
                         "/v1/contests", "/v1/consents", "/v1/transparency"]}

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, Any]:
        """Liveness: on the event loop, touching nothing that can block, so it answers while the decision
        workers are saturated or the database hangs."""
        return {"status": "ok", "version": __version__, "uptime_s": round(time.time() - services.started, 1),
                "decisions_in_flight": services.decisions.in_flight}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """Ready when the decision pipeline answers and every store is up; says which one is down within
        a second. Escalations are still accepted (spooled) while the database is down."""
        try:
            guard.check("ready?", age=10)  # ~0.5 ms; run here so a saturated pool does not read as not ready
        except Exception as exc:  # readiness must report, not crash
            return error_response(503, "not_ready", f"decision pipeline failed: {exc}")
        stores = await services.health.stores()
        stores["spool"] = "pending" if services.recorder.spool.pending() else "empty"
        down = [name for name, state in stores.items() if state.startswith("down")]
        if down:
            return error_response(503, "not_ready", f"{' and '.join(down)} down; escalations and reports are "
                                  "spooled and replayed when it is back", stores=stores)
        return JSONResponse({"status": "ready", "policy_version": guard.policy.version,
                             "detectors": [d.name for d in guard.detectors], "stores": stores})

    def moderate(body: ModerationRequest, texts: list[str]) -> list[tuple[ModerationResult, CaseRecord | None]]:
        out = []
        for t in texts:
            decision = guard.check(t, age=body.age, lang=body.lang, role=body.role, country=body.country)
            services.counter.count(decision, "moderation")
            # escalations only: a trained human reviews (4i)
            out.append((to_openai(decision), store.case_record(decision, t, "moderation", "system", body.profile)))
        return out

    @app.post("/v1/moderations", response_model=ModerationResponse, tags=["moderation"])
    async def moderations(body: ModerationRequest) -> Response:
        # the decisions (CPU) run in the bounded decision pool, the case writes in the store pool; the
        # response is serialised once here rather than re-validated through response_model (which stays
        # for the OpenAPI schema)
        texts = [body.input] if isinstance(body.input, str) else body.input
        if not texts:
            raise InvalidInputError("input is an empty list; send a text or a list of texts")
        if len(texts) > settings.max_inputs:
            raise InvalidInputError(f"{len(texts)} inputs; at most {settings.max_inputs} per request")
        check_budget(texts, settings.max_request_chars)
        decided = await services.decisions.run(moderate, body, texts)
        results = []
        for (result, case), t in zip(decided, texts, strict=True):
            if case is not None:
                result.recorded = (await services.recorder.record(case)).recorded
            if contestable(result.childguard):  # the child can say it was a mistake (3i)
                with contextlib.suppress(StoreUnavailableError):  # a slow store: the decision stands, untokened
                    result.childguard.contest_token = await services.store_pool.run(
                        services.issue_contest, result.childguard, t, "moderation", body.profile)
            results.append(result)
        response = ModerationResponse(id=f"modr-{uuid.uuid4().hex}", model=body.model or f"childguard-{__version__}",
                                      results=results)
        return Response(response.model_dump_json(), media_type="application/json")

    @app.post("/v1/chat/completions", tags=["gateway"])
    async def chat_completions(request: Request) -> Response:
        """OpenAI-compatible chat completions through the child protection mode. Extension:
        `"childguard": {"age": 10, "lang": "fr", "country": "FR"}` in the request body."""
        try:
            body = await request.json()
        except ValueError as exc:
            raise InvalidInputError(f"request body is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise InvalidInputError("request body must be a JSON object")
        return await gateway.handle(body)

    for router in (conversation_api.router, consent_api.router, report_page.router, contest_page.router,
                   transparency.router, console.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(resources.files("childguard.service").joinpath("static"))),
              name="static")
    app.state.services = services
    app.state.jobs = jobs

    app.add_middleware(ApiKeyAuth, keys=settings.api_keys)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, burst=settings.rate_limit_burst,
                       exempt=("/healthz", "/readyz"), keys=settings.api_keys)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
