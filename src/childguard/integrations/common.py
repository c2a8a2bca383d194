"""What every integration does the same way: which decisions stop a turn, the answer the child gets
instead, and the decision as data a framework may log or trace. That record is deliberately small and
text-free (action, categories, band, language, policy version): framework traces often leave the
process (LangSmith, the Agents SDK's trace export), and the child's words must not go with them (5b)."""

from __future__ import annotations

from typing import Any

from ..decision import Decision

FALLBACK = "Let's talk about something else."


def stops_input(decision: Decision) -> bool:
    """The child's message is not answered as asked (redirect or stronger), as in the gateway."""
    return decision.action.intervenes


def stops_output(decision: Decision) -> bool:
    """The model's answer must not reach the child (block or stronger)."""
    return decision.action.stops


def safe_text(decision: Decision) -> str:
    """The child-facing message in the child's language, with up to two helplines (as the gateway answers)."""
    text = decision.message or FALLBACK
    for r in decision.resources[:2]:
        text += f"\n- {r.name}" + (f": {r.phone}" if r.phone else "") + (f" ({r.url})" if r.url and not r.phone else "")
    return text


def summary(decision: Decision) -> dict[str, Any]:
    return {"action": decision.action.value, "flagged": list(decision.flagged), "age_band": decision.age_band.value,
            "lang": decision.lang, "review_required": decision.review_required,
            "policy_version": decision.policy_version}
