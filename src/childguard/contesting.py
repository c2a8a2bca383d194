"""A child can contest a decision (3i effective remedies, 8a being heard): "I think this was a
mistake", with an optional word, through the API or the /contest page, with no account and no cookie.
The child gets a reference code (stored only as a hash, as for reports) and, once a person has
decided, an answer in child-friendly words in their language."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from .errors import ConflictError, InvalidInputError, NotFoundError
from .reporting import new_reference, normalize_reference, page_strings
from .store.contests import MAX_NOTE, Contests
from .taxonomy import load_yaml_resource


@lru_cache(maxsize=1)
def contest_strings() -> dict[str, dict[str, Any]]:
    """The contest texts per report-page language, English filling any gap; the language's name and
    text direction come from the report page so both pages list the same languages."""
    raw = cast(dict[str, dict[str, Any]], load_yaml_resource("contest_page.yaml"))
    english = raw["en"]
    report = page_strings()
    return {lang: {"name": report[lang]["name"], "dir": report[lang].get("dir", "ltr"), **english, **raw.get(lang, {})}
            for lang in report}


def contest_reference_hash(code: str) -> str:
    # its own namespace: a report's code does not answer on the contest page, nor the reverse
    return hashlib.sha256(("childguard/contest/" + code).encode()).hexdigest()


class ContestRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    token: str = Field(min_length=1, max_length=64, description="the contest_token of the decision")
    message: str = Field("", max_length=MAX_NOTE, description="the child's own words (optional)")
    lang: str = Field("en", description="language of the answer")


class ContestReceipt(BaseModel):
    reference: str = Field(description="the child's follow-up code; shown once, stored only as a hash")
    message: str
    case_id: int | None = Field(None, exclude=True)


class ContestStatus(BaseModel):
    reference: str
    status: str = Field(description="received | upheld | decision_stands")
    message: str


@dataclass
class ContestDesk:
    contests: Contests
    strings: dict[str, dict[str, Any]] = field(default_factory=contest_strings)

    def lang(self, lang: str | None) -> str:
        code = (lang or "en").split("-")[0].lower()
        return code if code in self.strings else "en"

    def submit(self, req: ContestRequest) -> ContestReceipt:
        texts = self.strings[self.lang(req.lang)]
        code = new_reference()
        with self._in_childs_words(texts):
            case_id = self.contests.contest(req.token, req.message, contest_reference_hash(code))
        return ContestReceipt(reference=code, message=texts["thanks_body"], case_id=case_id)

    def check(self, token: str, lang: str | None = None) -> None:
        """A bad, expired or used token is said when the page opens, before the child writes a reason."""
        with self._in_childs_words(self.strings[self.lang(lang)]):
            self.contests.check(token)

    @staticmethod
    @contextmanager
    def _in_childs_words(texts: dict[str, Any]) -> Iterator[None]:
        """The store's token errors, in the child's language."""
        try:
            yield
        except ConflictError as exc:
            raise ConflictError(texts["token_used"]) from exc
        except NotFoundError as exc:
            raise NotFoundError(texts["token_expired"]) from exc
        except InvalidInputError as exc:
            raise InvalidInputError(texts["token_invalid"] if "token" in str(exc) else str(exc)) from exc

    def status(self, code: str, lang: str | None = None) -> ContestStatus:
        texts = self.strings[self.lang(lang)]
        ref = normalize_reference(code)
        outcome = self.contests.outcome(contest_reference_hash(ref))
        if outcome is None:
            raise NotFoundError(texts["status_unknown"])
        status = "received" if outcome == "open" else outcome
        key = {"received": "status_open", "upheld": "status_upheld", "decision_stands": "status_stands"}[status]
        return ContestStatus(reference=ref, status=status, message=texts[key])
