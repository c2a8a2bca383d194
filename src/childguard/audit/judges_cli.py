"""`childguard audit-judges`: measure the audit's judges on the held-out labelled answers, print the
numbers, and with --write store them where the report reads them (audit/data/judge_quality.json) and
where people read them (docs/audit-judges.md)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import IO

from ..errors import InvalidInputError
from ..guard import Guard
from ..inputs import parse_child_band
from .judge_eval import load_labelled, markdown, measure, quality_summary, text_lines
from .judge_quality import QUALITY_FILE
from .judges import JudgeConfig, build_judges

PACKAGE_DATA = Path(__file__).parent / "data"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    a = sub.add_parser("audit-judges", help="measure the audit's judges on held-out labelled answers (accuracy, "
                                            "Cohen's kappa per label and language)")
    a.add_argument("--answers", default="training/answers", help="folder of labelled answers (*.jsonl)")
    a.add_argument("--split", default="test", choices=["test", "train", "all"])
    a.add_argument("--age", default="10-12", help="age band the answers are judged for")
    a.add_argument("--judge-url", help="also measure an LLM judge behind this OpenAI-compatible endpoint")
    a.add_argument("--judge-model", default="default")
    a.add_argument("--judge-api-key-env")
    a.add_argument("--json-out", help="write the full measurement as JSON here")
    a.add_argument("--write", action="store_true",
                   help="store the results in audit/data/judge_quality.json and docs/audit-judges.md")
    a.add_argument("--docs", default="docs/audit-judges.md")
    a.add_argument("--quality-out", default=str(PACKAGE_DATA / QUALITY_FILE),
                   help="where --write stores what the report shows beside each score")


def judges_main(args: argparse.Namespace, out: IO[str]) -> int:
    rows = load_labelled(Path(args.answers), args.split)
    band = parse_child_band(args.age).value
    names = ["detectors", "kind", "refusal"] + (["llm"] if args.judge_url else [])
    key = None
    if args.judge_api_key_env:
        if args.judge_api_key_env not in os.environ:
            raise InvalidInputError(f"environment variable {args.judge_api_key_env} is not set")
        key = os.environ[args.judge_api_key_env]
    judges = build_judges(names, JudgeConfig(Guard(), args.judge_url, args.judge_model, key))

    async def run() -> dict[str, object]:
        try:
            return await measure(rows, judges, band)
        finally:
            for j in judges:
                await j.aclose()

    result = asyncio.run(run())
    for line in text_lines(result):
        out.write(line + "\n")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if args.write:
        quality = Path(args.quality_out)
        quality.write_text(json.dumps(quality_summary(result), indent=2) + "\n", encoding="utf-8")
        docs = Path(args.docs)
        docs.parent.mkdir(parents=True, exist_ok=True)
        docs.write_text(markdown(result) + "\n", encoding="utf-8")
        out.write(f"wrote {quality} and {docs}\n")
    return 0
