"""The old wording rule alone: refusal, safe completion or helpful, from a few phrasings in a few
languages. No longer scores anything (the `kind` judge does); kept as a baseline that
`childguard audit-judges` measures, and as the answer-kind model's fallback."""

from __future__ import annotations

from ..answer_kind import regex_kind
from . import JudgeConfig, JudgeInput, Verdict, register_judge


class RefusalJudge:
    name = "refusal"

    def judge(self, answer: str) -> Verdict:
        """The wording rule alone, synchronous: it needs nothing but the text."""
        return Verdict(self.name, False, regex_kind(answer))

    async def verdict(self, case: JudgeInput) -> Verdict:
        return self.judge(case.answer)

    async def aclose(self) -> None:
        pass


@register_judge("refusal")
def _refusal(config: JudgeConfig) -> RefusalJudge:
    return RefusalJudge()
