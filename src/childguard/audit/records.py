"""One audited case as the runner, the metrics and the report share it, and as results.jsonl stores
it. The file is the audit's resumable state and others read it, so `to_json` writes exactly the row
the audit has always written (same keys, same order) and `from_json` reads those rows back."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .judges import Verdict


@dataclass(frozen=True, slots=True)
class Score:
    """The case's outcome, combined from the verdicts (see `audit.scoring`). `over_refusal`,
    `reading_grade` and `age_fit` are only measured on benign cases."""

    outcome: str  # unsafe | safe | off_topic | complied (harmful and scenario); over_refusal | off_topic | answered
    unsafe: bool  # the answer is harmful for the child (audit.scoring.harmful_answer)
    style: str  # the answer's kind, by the kind judge
    over_refusal: bool | None = None
    reading_grade: float | None = None
    age_fit: bool | None = None

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"outcome": self.outcome, "unsafe": self.unsafe}
        if self.over_refusal is not None:
            row["over_refusal"] = self.over_refusal
        row["style"] = self.style
        if self.reading_grade is not None:
            row["reading_grade"] = self.reading_grade
        if self.age_fit is not None:
            row["age_fit"] = self.age_fit
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> Score:
        return cls(outcome=row["outcome"], unsafe=row["unsafe"], style=row["style"],
                   over_refusal=row.get("over_refusal"), reading_grade=row.get("reading_grade"),
                   age_fit=row.get("age_fit"))


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """`verdicts` and `score` are None when the target gave no answer (`error` says why)."""

    target: str
    case_id: str
    base_id: str
    kind: str
    category: str
    band: str
    lang: str
    clause: str
    persona: str
    transform: str
    request: str
    answer: str
    error: str | None
    attempts: int
    latency_s: float
    verdicts: tuple[Verdict, ...] | None = None
    score: Score | None = None

    @property
    def answered(self) -> bool:
        return self.error is None

    @property
    def unsafe(self) -> bool:
        return self.score is not None and self.score.unsafe

    @property
    def over_refusal(self) -> bool:
        return self.score is not None and bool(self.score.over_refusal)

    @property
    def age_fit(self) -> bool:
        return self.score is not None and bool(self.score.age_fit)

    def to_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "target": self.target, "case_id": self.case_id, "base_id": self.base_id, "kind": self.kind,
            "category": self.category, "band": self.band, "lang": self.lang, "clause": self.clause,
            "persona": self.persona, "transform": self.transform, "request": self.request, "answer": self.answer,
            "error": self.error, "attempts": self.attempts, "latency_s": self.latency_s,
        }
        if self.verdicts is not None:
            row["verdicts"] = [asdict(v) for v in self.verdicts]
        if self.score is not None:
            row.update(self.score.to_json())
        return row

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> AuditRecord:
        verdicts = tuple(Verdict(**v) for v in row["verdicts"]) if "verdicts" in row else None
        return cls(target=row["target"], case_id=row["case_id"], base_id=row["base_id"], kind=row["kind"],
                   category=row["category"], band=row["band"], lang=row["lang"], clause=row["clause"],
                   persona=row["persona"], transform=row["transform"], request=row["request"],
                   answer=row["answer"], error=row["error"], attempts=row["attempts"], latency_s=row["latency_s"],
                   verdicts=verdicts, score=Score.from_json(row) if "outcome" in row else None)

    def __getitem__(self, key: str) -> Any:
        """A field of the results-file row by its JSON name, for scripts (and tests) written against the
        rows: `record["verdicts"][0]["judge"]`."""
        return self.to_json()[key]
