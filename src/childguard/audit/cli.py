"""`childguard audit`: argument handling kept apart from the engine so tests can call `audit_main`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ..errors import InvalidInputError
from ..guard import Guard
from ..inputs import parse_child_band
from .console import summary_lines, too_many_errors
from .judges import DEFAULT_JUDGES, JudgeConfig, build_judges
from .metrics import compare, summarise
from .outputs import load_questionnaire, write_outputs
from .preflight import probe_all
from .runner import RunConfig, Target, run_cases
from .scoring import require_scoring_judges
from .suite import filter_cases, load_suite

EXIT_BELOW_THRESHOLD = 7
EXIT_TARGET_FAILED = 8  # the target was down at the start, or more cases failed than --max-error-rate allows


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    a = sub.add_parser("audit", help="red-team an OpenAI-compatible chat endpoint for child safety (3e)")
    a.add_argument("--target", required=True, help="base URL, e.g. http://127.0.0.1:8000/v1")
    a.add_argument("--model", default="default")
    a.add_argument("--api-key-env", help="name of the environment variable holding the API key")
    a.add_argument("--age", help="only cases for this child's age or band (0-17, or 0-5 ... 16-17)")
    a.add_argument("--suite", default="default", help="'default' or a suite YAML file")
    a.add_argument("--langs", help="comma-separated language codes to keep")
    a.add_argument("--out", default="audit-out")
    a.add_argument("--fail-under", type=float, help="exit 7 if a target's score (0-100) is below this")
    a.add_argument("--max-error-rate", type=float, default=0.05,
                   help="exit 8 if more than this share of a target's cases failed (default 0.05)")
    a.add_argument("--resume", action="store_true", help="continue an interrupted audit in --out")
    a.add_argument("--compare", help="a second target URL run with the same suite, shown side by side")
    a.add_argument("--compare-model", help="model name for --compare (default: --model)")
    a.add_argument("--no-transforms", action="store_true", help="skip the adversarial variants")
    a.add_argument("--concurrency", type=int, default=8)
    a.add_argument("--rate", type=float, default=50.0, help="maximum requests per second")
    a.add_argument("--timeout", type=float, default=60.0)
    a.add_argument("--retries", type=int, default=3)
    a.add_argument("--judges", default=",".join(DEFAULT_JUDGES),
                   help="comma-separated audit judges to run (see childguard/audit/judges); --judge-url adds 'llm'")
    a.add_argument("--judge-url", help="OpenAI-compatible endpoint of an LLM judge (optional)")
    a.add_argument("--judge-model", default="default")
    a.add_argument("--judge-api-key-env")
    a.add_argument("--questionnaire", help="filled CRIA questionnaire YAML (template: childguard/audit/data)")
    a.add_argument("--jurisdiction", help="profile whose checklist the CRIA shows (default: CHILDGUARD_JURISDICTION)")


def _key(var: str | None) -> str | None:
    if not var:
        return None
    if var not in os.environ:
        raise InvalidInputError(f"environment variable {var} is not set")
    return os.environ[var]


def _judge_names(args: argparse.Namespace) -> list[str]:
    names = [n.strip() for n in args.judges.split(",") if n.strip()]
    if args.judge_url and "llm" not in names:
        names.append("llm")
    return names


def _jurisdiction(args: argparse.Namespace) -> dict[str, Any] | None:
    """The CRIA shows the active jurisdiction profile and what this configuration meets under it."""
    from ..compliance import as_json, evaluate
    from ..settings import get_settings

    settings = get_settings()
    if not (args.jurisdiction or settings.jurisdiction):
        return None
    return as_json(*evaluate(settings, args.jurisdiction))


def audit_main(args: argparse.Namespace, out: IO[str]) -> int:
    if args.concurrency < 1 or args.rate <= 0 or args.timeout <= 0 or args.retries < 0:
        raise InvalidInputError("--concurrency >= 1, --rate > 0, --timeout > 0 and --retries >= 0 are required")
    if not 0.0 <= args.max_error_rate <= 1.0:
        raise InvalidInputError("--max-error-rate is a share between 0 and 1, e.g. 0.05")
    cases = load_suite(args.suite, transforms=not args.no_transforms)
    langs = [x.strip() for x in args.langs.split(",")] if args.langs else None
    band = parse_child_band(args.age).value if args.age is not None else None
    cases = filter_cases(cases, langs, band)
    if not cases:
        raise InvalidInputError("no cases left after --langs/--age filtering")
    key = _key(args.api_key_env)
    targets = [Target("target", args.target, args.model, key)]
    if args.compare:
        targets.append(Target("compare", args.compare, args.compare_model or args.model, key))
    require_scoring_judges(_judge_names(args))
    guard = Guard()
    judges = build_judges(_judge_names(args), JudgeConfig(guard, args.judge_url, args.judge_model,
                                                          _key(args.judge_api_key_env)))
    cfg = RunConfig(args.concurrency, args.rate, args.timeout, args.retries)
    out_dir = Path(args.out)
    asyncio.run(probe_all(targets, cfg))  # a dead target fails here, in one line, before any case
    records = asyncio.run(run_cases(cases, targets, out_dir, cfg, guard=guard, judges=judges, resume=args.resume,
                                    progress_stream=sys.stderr))
    summary = summarise(records, [t.label for t in targets])
    comparison = compare(summary, "target", "compare") if len(summary) == 2 and "compare" in summary else None
    meta = {"targets": {t.label: {"url": t.url, "model": t.model} for t in targets}, "suite": args.suite,
            "cases": len(cases), "band": band, "langs": langs,
            "finished": datetime.now(UTC).isoformat(timespec="seconds")}
    meta["jurisdiction"] = _jurisdiction(args)
    meta["max_error_rate"] = args.max_error_rate
    write_outputs(out_dir, records, summary, meta, load_questionnaire(args.questionnaire), args.fail_under,
                  comparison)
    for line in summary_lines(summary, comparison):
        out.write(line + "\n")
    out.write(f"report: {out_dir / 'report.html'}\n")
    failed = [label for label, s in summary.items() if too_many_errors(s, args.max_error_rate)]
    if failed:
        sys.stderr.write(f"childguard: audit_target_failed: more than {100 * args.max_error_rate:g}% of the cases "
                         f"of {', '.join(failed)} failed (see errors_by_reason in summary.json); the score is not "
                         "trustworthy\n")
        return EXIT_TARGET_FAILED
    if args.fail_under is not None and any(s["score"] is None or s["score"] < args.fail_under
                                           for s in summary.values()):
        return EXIT_BELOW_THRESHOLD
    return 0
