"""Child-friendly, confidential reporting (3d, 4j): what a child tells us becomes a review case for a
trained human, with a reference code the child can use to follow up, and helplines for the child's
country straight away. No account, no name; contact details only if the child chooses to give them."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from .decision import Resource
from .errors import InvalidInputError, NotFoundError
from .fields import Code, Prose
from .guard import Guard
from .helplines import normalize_country
from .inputs import parse_age
from .store import Store
from .store.records import CaseRecord
from .store.store import excerpt_of
from .taxonomy import get_taxonomy, load_yaml_resource

# what the child chose -> the taxonomy category that sets severity and helplines (None: general help)
KINDS: dict[str, str | None] = {
    "bullying": "cyberbullying",
    "stranger": "grooming",
    "pictures": "sextortion",
    "hurt_myself": "self_harm",
    "hurt_by_someone": "abuse_disclosure",
    "saw_something": None,
    "other": None,
}
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: codes are read aloud and copied by hand
_CODE = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")
MAX_MESSAGE = 4000
MAX_CONTACT = 200


@lru_cache(maxsize=1)
def page_strings() -> dict[str, dict[str, Any]]:
    raw = cast(dict[str, dict[str, Any]], load_yaml_resource("report_page.yaml"))
    english = raw["en"]
    return {lang: {**english, **texts, "choices": {**english["choices"], **texts.get("choices", {})}}
            for lang, texts in raw.items()}


def report_languages() -> list[str]:
    return list(page_strings())


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Code = Field("other", description=f"one of {', '.join(KINDS)}")
    message: str = Field("", max_length=MAX_MESSAGE, description="the child's own words (optional)")
    age: int | Code | None = Field(None, description="age or AADC band; optional")
    lang: Code = Field("en", description="page language; also used for the child-facing texts")
    country: Code | None = Field(None, description="ISO 3166 alpha-2, for helplines")
    contact: Prose | None = Field(None, max_length=MAX_CONTACT, description="only if the child wants an answer")


class ReportReceipt(BaseModel):
    reference: str = Field(description="the child's follow-up code; shown once, stored only as a hash")
    message: str
    helplines: list[Resource]
    recorded: Literal["stored", "spooled"] = Field(
        "stored", description="the report is in the database, or safely spooled on this host while the database "
        "is unreachable (written there once it answers; the code works from then on)")
    case_id: int | None = Field(None, exclude=True)


class ReportStatus(BaseModel):
    reference: str
    status: str = Field(description="received | reviewed")
    message: str


def fold_text(kind: str, age_band: str, message: str) -> bytes:
    """What makes two reports the same report (a flood's copies fold into one queue item): kind, age
    band and the words, with case, width and spacing folded; two children's different words never fold."""
    words = " ".join(unicodedata.normalize("NFKC", message).casefold().split())
    return f"report-fold\x00{kind}\x00{age_band}\x00{words}".encode()


def new_reference() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_reference(code: str) -> str:
    cleaned = re.sub(r"[\s_-]", "", str(code)).upper()
    if len(cleaned) == 12:
        cleaned = f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}"
    if not _CODE.match(cleaned):
        raise InvalidInputError("a reference code looks like ABCD-EFGH-JKMN (12 letters and digits)")
    return cleaned


def reference_hash(code: str) -> str:
    return hashlib.sha256(("childguard/report/" + code).encode()).hexdigest()


@dataclass
class ReportDesk:
    guard: Guard
    store: Store
    strings: dict[str, dict[str, Any]] = field(default_factory=page_strings)

    def lang(self, lang: str | None) -> str:
        code = (lang or "en").split("-")[0].lower()
        return code if code in self.strings else "en"

    def submit(self, req: ReportRequest) -> ReportReceipt:
        receipt, case = self.prepare(req)
        return receipt.model_copy(update={"case_id": self.store.save_case(case)})

    def prepare(self, req: ReportRequest) -> tuple[ReportReceipt, CaseRecord]:
        """The child's receipt and the case to record, without touching the database (CPU only), so the
        service can answer the child with helplines even while the database is down."""
        if req.kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {', '.join(KINDS)}")
        lang = self.lang(req.lang)
        if req.kind == "other" and not req.message.strip():
            raise InvalidInputError(self.strings[lang]["error_empty"])
        country = normalize_country(req.country) if req.country else None
        band = parse_age(req.age, self.guard.settings.default_age_band)
        category = KINDS[req.kind]
        tax = get_taxonomy()
        severity = tax.categories[category].severity if category else 2
        categories = [category] if category else []
        # the child's words are read by the classifier too: "saw something" may be a self-harm disclosure
        if req.message.strip():
            decision = self.guard.check(req.message, age=band, lang=None, role="child", country=req.country)
            for c in decision.flagged:
                severity = max(severity, tax.categories[c].severity)
                if c not in categories:
                    categories.append(c)
        code = new_reference()
        case = CaseRecord(source="report", severity=severity, age_band=band.value, lang=lang, categories=categories,
                          excerpt=excerpt_of(req.message.strip()), reasons=[f"child report: {req.kind}"],
                          actor="child_report", reference_hash=reference_hash(code),
                          contact=(req.contact or "").strip() or None,
                          fold_key=self.store.sign(fold_text(req.kind, band.value, req.message)).hex())
        helplines = self.guard.directory.lookup(country, category)
        return ReportReceipt(reference=code, message=self.strings[lang]["thanks_body"], helplines=helplines), case

    def status(self, code: str, lang: str | None = None) -> ReportStatus:
        texts = self.strings[self.lang(lang)]
        ref = normalize_reference(code)
        found = self.store.case_status(reference_hash(ref))
        if found is None:
            raise NotFoundError(texts["status_unknown"])
        closed = found["status"] == "closed"
        return ReportStatus(reference=ref, status="reviewed" if closed else "received",
                            message=texts["status_closed" if closed else "status_open"])
