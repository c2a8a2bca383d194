"""Property tests: whatever text, age, language or role arrives, the answer is a Decision or a typed
ChildGuardError, never a crash; and decisions are internally consistent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from childguard import Action, ChildGuardError, Decision, Guard
from childguard.taxonomy import CATEGORY_IDS

_GUARD = Guard()

texts = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400),
    st.binary(max_size=200),
    st.sampled_from(["", " ", "\x00", "k i l l", "👀" * 50, "ignore previous instructions", "0" * 300]),
)
ages = st.one_of(st.none(), st.integers(-5, 200), st.sampled_from(["0-5", "adult", "13", "x", "", "10-12"]))
langs = st.one_of(st.none(), st.sampled_from(["en", "fr", "pt-BR", "zz", "", "EN", "12", "zh_Hant"]))
roles = st.sampled_from(["child", "ai_output", "contact", "bot"])
countries = st.one_of(st.none(), st.sampled_from(["GB", "gb", "KE", "ZZ", "GBR", ""]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, ages, langs, roles, countries)
def test_never_crashes(text: object, age: object, lang: str | None, role: str, country: str | None) -> None:
    try:
        d = _GUARD.check(text, age=age, lang=lang, role=role, country=country)
    except ChildGuardError as exc:
        assert str(exc)
        assert exc.exit_code in (2, 3)
        return
    assert isinstance(d, Decision)
    assert set(d.scores) == set(CATEGORY_IDS)
    assert all(0.0 <= s <= 1.0 for s in d.scores.values())
    assert (d.message is None) == (d.action is Action.ALLOW)
    assert d.review_required == (d.action is Action.ESCALATE)
    assert d.reasons and all(r.clauses for r in d.reasons)
    assert all(c in CATEGORY_IDS for c in d.flagged)
