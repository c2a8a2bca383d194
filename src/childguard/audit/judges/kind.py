"""The answer's kind by the answer-kind model (refusal, safe completion, helpful, off-topic, partial),
read against the request it answers. Its label is what the audit scores refusals, over-refusal and
deflection by. Without the packaged model it falls back to the old wording regex and says so."""

from __future__ import annotations

from ..answer_kind import AnswerKindModel, regex_kind, shipped_model
from . import JudgeConfig, JudgeInput, Verdict, register_judge


class AnswerKindJudge:
    name = "kind"

    def __init__(self, model: AnswerKindModel | None) -> None:
        self.model = model

    def judge(self, request: str, answer: str) -> Verdict:
        if self.model is None:
            return Verdict(self.name, False, regex_kind(answer), "regex fallback: answer-kind model not installed")
        p = self.model.predict(request, answer)
        return Verdict(self.name, False, p.kind, f"p={p.confidence}")

    async def verdict(self, case: JudgeInput) -> Verdict:
        return self.judge(case.request, case.answer)

    async def aclose(self) -> None:
        pass


@register_judge("kind")
def _kind(config: JudgeConfig) -> AnswerKindJudge:
    return AnswerKindJudge(shipped_model())
