"""`childguard compliance`: what the current configuration meets under a jurisdiction profile, with
evidence (settings values, the policy, the transparency figures), and what only the operator can do.

Each checklist item of a profile names a check; checks are a registry, so a profile file can add items
without code. "met" means this deployment's configuration does what the item asks; it is not legal
advice and does not replace counsel reading the primary texts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from .agebands import CHILD_BANDS
from .errors import ConfigError
from .jurisdictions import Jurisdiction, apply_jurisdiction, get_jurisdiction
from .policy import Policy, cached_policy
from .settings import Settings

MET, NOT_MET, OPERATOR = "met", "not met", "operator must do"


@dataclass(frozen=True)
class Context:
    settings: Settings
    jurisdiction: Jurisdiction
    policy: Policy
    figures: dict[str, Any] | None  # the transparency report, when the store could be read


@dataclass(frozen=True)
class Result:
    id: str
    status: str
    text: str
    cite: str
    evidence: str


Check = Callable[[Context], tuple[str, str]]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn
    return register


def _hours(seconds: float | None) -> str:
    return "off" if seconds is None else f"{seconds / 3600:g} h"


@check("operator")
def _operator(ctx: Context) -> tuple[str, str]:
    return OPERATOR, "outside what childguard can configure or verify"


@check("consent_required")
def _consent(ctx: Context) -> tuple[str, str]:
    j, s = ctx.jurisdiction, ctx.settings
    evidence = f"CHILDGUARD_REQUIRE_CONSENT={str(s.require_consent).lower()}; consent age {j.consent_age()}"
    if j.consent_age_by_country:
        evidence += f" ({len(j.consent_age_by_country)} countries set their own age)"
    if not j.value("require_consent"):
        return MET, evidence + "; this profile does not require consent"
    return (MET if s.require_consent else NOT_MET), evidence


@check("ai_disclosure")
def _ai_disclosure(ctx: Context) -> tuple[str, str]:
    hours, s = ctx.jurisdiction.value("ai_disclosure_every_hours"), ctx.settings
    on = "disclosure" in s.conversation_analyzers and s.ai_disclosure_every_s is not None
    evidence = (f"reminder analyser {'on' if on else 'off'}, every {_hours(s.ai_disclosure_every_s)} for known minors"
                "; the gateway's system prompt tells the model to say it is an AI")
    if hours is None:
        return MET, evidence + "; no interval required by this profile"
    ok = on and s.ai_disclosure_every_s is not None and s.ai_disclosure_every_s <= float(hours) * 3600
    return (MET if ok else NOT_MET), evidence + f"; required: at the start and every {hours:g} h"


@check("break_reminder")
def _break(ctx: Context) -> tuple[str, str]:
    hours, s = ctx.jurisdiction.value("break_reminder_hours"), ctx.settings
    on = "dependency" in s.conversation_analyzers
    evidence = f"dependency analyser {'on' if on else 'off'}; CHILDGUARD_LONG_SESSION_S={s.long_session_s}"
    if hours is None:
        return (MET if on else NOT_MET), evidence
    return (MET if on and s.long_session_s <= float(hours) * 3600 else NOT_MET), evidence + f"; required ≤ {hours:g} h"


@check("retention")
def _retention(ctx: Context) -> tuple[str, str]:
    limit, days = ctx.jurisdiction.value("retention_days"), ctx.settings.retention_days
    evidence = f"CHILDGUARD_RETENTION_DAYS={days}; purge every {ctx.settings.purge_interval_s:g} s"
    if limit is None:
        return MET, evidence
    return (MET if days <= int(limit) else NOT_MET), evidence + f"; profile: ≤ {limit} days"


def _figure(ctx: Context, *path: str) -> Any:
    node: Any = ctx.figures
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return "n/a"
        node = node[key]
    return node


@check("reporting_tool")
def _reporting(ctx: Context) -> tuple[str, str]:
    received = _figure(ctx, "review", "reports_received")
    return MET, f"/report and POST /v1/reports in 8 languages; reports received: {received}"


@check("contest")
def _contest(ctx: Context) -> tuple[str, str]:
    return MET, (f"contest_token on blocked/redirected child messages, /contest and POST /v1/contests; contests "
                 f"received: {_figure(ctx, 'contests', 'total', 'received')}, upheld: "
                 f"{_figure(ctx, 'contests', 'total', 'upheld')} (window {ctx.settings.contest_window_days:g} days)")


@check("human_review")
def _review(ctx: Context) -> tuple[str, str]:
    return MET, (f"escalations open review cases in /console; opened: {_figure(ctx, 'review', 'cases_opened')}, "
                 f"median hours to a decision: {_figure(ctx, 'review', 'median_hours_to_decision')}")


@check("transparency")
def _transparency(ctx: Context) -> tuple[str, str]:
    return MET, (f"/transparency and /v1/transparency publish {', '.join(ctx.jurisdiction.publishes)}; "
                 f"{_figure(ctx, 'counted')} decisions in the last {ctx.settings.transparency_days} days; cells "
                 f"under {ctx.settings.transparency_min_count} suppressed")


@check("self_harm_protocol")
def _protocol(ctx: Context) -> tuple[str, str]:
    actions = {ctx.policy.action_for("self_harm", b, "child").value for b in CHILD_BANDS}
    return OPERATOR, (f"policy: self-harm messages from children -> {'/'.join(sorted(actions))} with national "
                      "helplines and human review; the operator must publish the protocol on the website")


@check("annual_report")
def _annual(ctx: Context) -> tuple[str, str]:
    return OPERATOR, (f"self-harm decisions in the last {ctx.settings.transparency_days} days: "
                      f"{_figure(ctx, 'by_category', 'self_harm')} (GET /v1/transparency, "
                      "CHILDGUARD_TRANSPARENCY_DAYS=365 for a year); the operator files the report")


@check("age_assurance")
def _age(ctx: Context) -> tuple[str, str]:
    s = ctx.settings
    hook = "configured" if s.age_assurance_url else "not configured"
    return MET, (f"age signals in 10 languages make protection stricter: CHILDGUARD_AGE_SIGNAL_MODE="
                 f"{s.age_signal_mode}, min confidence {s.age_signal_min_confidence}; age-assurance webhook {hook}")


@check("dependency_safeguards")
def _dependency(ctx: Context) -> tuple[str, str]:
    on = "dependency" in ctx.settings.conversation_analyzers
    return (MET if on else NOT_MET), (f"dependency analyser {'on' if on else 'off'}: AI outputs that encourage "
                                      "attachment are replaced; exclusive-friendship talk is redirected")


@check("sexual_content_blocked")
def _sexual(ctx: Context) -> tuple[str, str]:
    actions = {b.value: ctx.policy.action_for("sexual_content", b, "ai_output") for b in CHILD_BANDS}
    ok = all(a.stops for a in actions.values())
    return (MET if ok else NOT_MET), "AI output with sexual content, by band: " + ", ".join(
        f"{b} {a.value}" for b, a in actions.items())


def store_figures(settings: Settings) -> dict[str, Any]:
    """The transparency figures of the configured store, as the public page shows them."""
    from .store import Store
    from .store.contests import Contests
    from .store.stats import transparency

    store = Store(settings)
    data = transparency(store, settings.transparency_days, settings.transparency_min_count)
    data["contests"] = Contests(store, settings.contest_window_days).stats(settings.transparency_days,
                                                                         settings.transparency_min_count)
    return data


def evaluate(settings: Settings, jurisdiction: str | None = None,
             figures: dict[str, Any] | None = None) -> tuple[Jurisdiction, list[Result]]:
    """Check the configuration the service really runs with (its own CHILDGUARD_JURISDICTION applied)
    against the chosen profile's checklist: choosing a profile here does not pretend its presets are on."""
    j = get_jurisdiction(jurisdiction or settings.jurisdiction or "default")
    effective, _ = apply_jurisdiction(settings)
    ctx = Context(effective, j, cached_policy(effective.policy_file), figures)
    results = []
    for item in j.checklist:
        if item.check not in CHECKS:
            raise ConfigError(f"jurisdiction {j.id}: checklist item {item.id} names an unknown check "
                              f"{item.check!r}; use one of: {', '.join(sorted(CHECKS))}")
        status, evidence = CHECKS[item.check](ctx)
        results.append(Result(item.id, status, item.text, item.cite, evidence))
    return j, results


def format_checklist(j: Jurisdiction, results: list[Result], active: str | None = None) -> str:
    lines = [f"childguard compliance: {j.name} [{j.id}] (not legal advice)"]
    if (active or "").upper() != j.id.upper():
        lines.append(f"note: the service runs with CHILDGUARD_JURISDICTION={active or '(unset)'}; set it to {j.id} "
                     "to apply this profile's presets")
    marks = {MET: "[met]     ", NOT_MET: "[NOT MET] ", OPERATOR: "[operator]"}
    for r in results:
        lines.append(f"{marks[r.status]} {r.id}: {r.text} ({r.cite})")
        lines.append(f"           evidence: {r.evidence}")
    counts = {s: sum(r.status == s for r in results) for s in (MET, NOT_MET, OPERATOR)}
    lines.append(f"summary: {counts[MET]} met, {counts[NOT_MET]} not met, {counts[OPERATOR]} for the operator")
    return "\n".join(lines)


def as_json(j: Jurisdiction, results: list[Result]) -> dict[str, Any]:
    return {"jurisdiction": j.summary(), "items": [asdict(r) for r in results]}
