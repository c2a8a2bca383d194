"""Parental-consent records over HTTP (5b): record, read, withdraw. Withdrawal deletes the child's
review cases and the conversation state childguard keeps for the profile, and says what it deleted."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError

from ..errors import NotFoundError, StoreUnavailableError
from ..fields import Code, Name, Prose
from ..store.consent import METHODS, SCOPES
from .context import ServicesDep
from .gateway import conversation_key


class ConsentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    profile_id: Name = Field(min_length=1, description="your id for the child profile")
    method: Code = Field(description=f"how the parent was verified: {', '.join(METHODS)}")
    scope: list[Code] | None = Field(None, max_length=20,
                                     description=f"purposes consented to (default all): {', '.join(SCOPES)}")
    guardian_contact: Prose | None = Field(None, max_length=300, description="stored encrypted; deleted on withdrawal")


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversations: list[Name] = Field(default_factory=list, max_length=1000,
                                     description="conversation ids (of /v1/conversations) to forget as well")


router = APIRouter(prefix="/v1/consents", tags=["privacy"])


@router.post("", status_code=201)
def grant(body: ConsentRequest, services: ServicesDep) -> dict[str, Any]:
    record = services.consents.grant(body.profile_id, body.method, body.scope, body.guardian_contact)
    return record.as_dict()


@router.get("/{profile_id}")
def status(profile_id: Annotated[Name, Path()], services: ServicesDep) -> dict[str, Any]:
    record = services.consents.status(profile_id)
    if record is None:
        raise NotFoundError("no consent is recorded for this profile")
    return record.as_dict()


@router.post("/{profile_id}/withdraw")
def withdraw(profile_id: Annotated[Name, Path()], services: ServicesDep,
             body: WithdrawRequest | None = None) -> dict[str, Any]:
    """Withdraw consent and delete the child's data: review cases, gateway conversation state and the
    conversations named in the body. The tombstone (when, how) stays for accountability; cases
    safeguarding needs are unlinked and kept until decided and purged (see the response).

    All or nothing, and safe to repeat: the conversation state goes first (when Redis is down: 503
    and nothing changed), then the consent and the cases in one database transaction (when the
    database is down: 503, consent still granted, cases kept; only conversation state may be gone)."""
    try:
        if services.consents.status(profile_id) is None:
            raise NotFoundError("no consent is recorded for this profile")
        keys = [conversation_key(services.store.profile_ref(profile_id)), *(body.conversations if body else [])]
        for key in keys:
            services.conversations.forget(key)
        done = services.consents.withdraw_all(profile_id)  # cases and contest tokens in one transaction
        record, cases, kept, tokens = done.record, done.cases_deleted, done.cases_kept, done.tokens_deleted
    except (StoreUnavailableError, DBAPIError) as exc:
        reason = str(exc) if isinstance(exc, StoreUnavailableError) else "the database cannot be reached"
        raise StoreUnavailableError(f"{reason.rstrip('.')}. Consent is NOT withdrawn yet and no review case "
                                    "was deleted; send the same withdrawal again when the store is back") from exc
    return {"consent": record.as_dict(), "complete": True,
            "deleted": {"review_cases": cases, "conversations": len(keys), "contest_tokens": tokens},
            "kept_for_safeguarding": {"review_cases": kept,
                                      "why": "referred to an authority, or open and of the most serious "
                                             "harms; unlinked from the profile, deleted by retention"}}
