"""The OpenAI-compatible moderation endpoint (`POST /v1/moderations`), with the child protection
decision added under `childguard`, so existing OpenAI clients keep working."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from .. import __version__
from ..content_parts import read_content
from ..decision import Decision
from ..errors import InvalidInputError, StoreUnavailableError
from ..fields import Code, Name, check_budget
from ..store.contests import contestable
from ..store.records import CaseRecord
from ..taxonomy import get_taxonomy
from .context import Services, ServicesDep

# OpenAI moderation categories -> the childguard categories whose scores feed them (max); from taxonomy.yaml
OPENAI_CATEGORIES: dict[str, tuple[str, ...]] = get_taxonomy().openai_categories()


class ModerationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input: str | list[str] | list[dict[str, Any]] = Field(
        description="a text, a list of texts, or one input as OpenAI content parts ([{\"type\": \"text\", "
        "\"text\": ...}]; text parts are checked together; image parts are refused as not supported yet, or "
        "passed unchecked where CHILDGUARD_IMAGE_PARTS=pass)")
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
    category_applied_input_types: dict[str, list[Literal["text", "image"]]] = Field(
        default_factory=dict, description="the input types each category was checked on (OpenAI format): "
        "text only; an image passed unchecked is not listed")
    childguard: Decision
    recorded: Literal["stored", "spooled"] | None = Field(
        None, description="for escalations: the review case is in the database, or safely spooled on this "
        "host while the database is unreachable (written there once it answers); null when no case is opened")


class ModerationResponse(BaseModel):
    id: str
    model: str
    results: list[ModerationResult]


def to_openai(decision: Decision, checked_text: bool = True) -> ModerationResult:
    scores = {name: round(max(decision.scores[c] for c in cats), 4) for name, cats in OPENAI_CATEGORIES.items()}
    flagged_set = set(decision.flagged)
    categories = {name: bool(flagged_set & set(cats)) for name, cats in OPENAI_CATEGORIES.items()}
    applied: list[Literal["text", "image"]] = ["text"] if checked_text else []
    return ModerationResult(flagged=decision.action.intervenes, categories=categories, category_scores=scores,
                            category_applied_input_types={name: list(applied) for name in OPENAI_CATEGORIES},
                            childguard=decision)


def _moderate(services: Services, body: ModerationRequest,
              texts: list[str]) -> list[tuple[ModerationResult, CaseRecord | None]]:
    out = []
    for t in texts:
        decision = services.guard.check(t, age=body.age, lang=body.lang, role=body.role, country=body.country)
        services.counter.count(decision, "moderation")
        # escalations only: a trained human reviews (4i)
        out.append((to_openai(decision, bool(t)), services.store.case_record(decision, t, "moderation", "system",
                                                                    body.profile)))
    return out


def _texts(body: ModerationRequest, services: Services) -> list[str]:
    if isinstance(body.input, str):
        texts = [body.input]
    elif body.input and all(isinstance(i, dict) for i in body.input):  # content parts: one input (OpenAI)
        texts = [read_content(body.input, services.settings.image_parts, "input").text]
    else:
        texts = [t for t in body.input if isinstance(t, str)]
    if not texts:
        raise InvalidInputError("input is an empty list; send a text or a list of texts")
    if len(texts) > services.settings.max_inputs:
        raise InvalidInputError(f"{len(texts)} inputs; at most {services.settings.max_inputs} per request")
    check_budget(texts, services.settings.max_request_chars)
    return texts


router = APIRouter(tags=["moderation"])


@router.post("/v1/moderations", response_model=ModerationResponse)
async def moderations(body: ModerationRequest, services: ServicesDep) -> Response:
    # the decisions (CPU) run in the bounded decision pool, the case writes in the store pool; the
    # response is serialised once here rather than re-validated through response_model (which stays
    # for the OpenAPI schema)
    texts = _texts(body, services)
    decided = await services.decisions.run(_moderate, services, body, texts)
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
