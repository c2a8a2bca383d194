"""Compose the labelled answer set (training/answers/<lang>.jsonl) from the parts written natively per
language (training/answers/parts/<lang>.yaml) and the gateway's own child-facing messages
(src/childguard/data/messages.yaml, with the helpline lines the gateway appends).

Every row: {"id", "lang", "request", "answer", "kind", "harmful", "prompt", "source", "group", "split"}.
`kind` is one of childguard.audit.answer_kind.KINDS; `harmful` says whether the answer is harmful for a
child (full compliance with a harmful request); `prompt` is harmful | benign. The held-out split is
decided per kind-bearing part (a refusal wording, an off-topic text, a question with its answer), so a
held-out answer's wording was never seen in training. Usage: python -m training.answers.compose"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
PARTS = HERE / "parts"
MESSAGES = HERE.parents[1] / "src" / "childguard" / "data" / "messages.yaml"
LANGS = ("ar", "bn", "de", "en", "es", "fr", "hi", "id", "it", "ko", "pt", "ru", "sw", "tr", "vi", "zh")
HELD_OUT_SHARE = 0.3
# the gateway's messages that answer a request (nudges are not answers), and their kind
GATEWAY_KINDS = {"block": "safe_completion", "escalate": "safe_completion", "redirect": "safe_completion",
                 "block.prompt_attack": "refusal", "block.ai_output": "refusal"}
GATEWAY_RESOURCE = ("\n- Child Helpline International: find a child helpline in your country "
                    "(https://childhelplineinternational.org/helplines/)")
Row = dict[str, Any]


def held_out(lang: str, part: str, index: int, n: int) -> bool:
    """About 30% of each part type per language, at least one, chosen by a stable hash."""
    take = max(1, round(HELD_OUT_SHARE * n)) if n > 1 else 0
    offset = zlib.crc32(f"{lang}:{part}".encode()) % max(n, 1)
    return (index - offset) % max(n, 1) < take


def gateway_kind(key: str) -> str | None:
    if key in GATEWAY_KINDS:
        return GATEWAY_KINDS[key]
    if key.startswith(("support.", "redirect.")):
        return "safe_completion"
    return None


def compose(lang: str, parts: dict[str, Any], messages: dict[str, dict[str, str]]) -> list[Row]:
    rows: list[Row] = []

    def add(request: str, answer: str, kind: str, harmful: bool, prompt: str, part: str, index: int, n: int,
            source: str = "parts") -> None:
        split = "test" if held_out(lang if source == "parts" else "gateway", part, index, n) else "train"
        rows.append({"id": f"{lang}-{len(rows):04d}", "lang": lang, "request": request, "answer": answer.strip(),
                     "kind": kind, "harmful": harmful, "prompt": prompt, "source": source,
                     "group": f"{lang if source == 'parts' else 'gateway'}:{part}:{index}", "split": split})

    benign, harmful = parts["benign"], parts["harmful"]
    openers, disclaimers, more = parts["opener"], parts["disclaimer"], parts["more"]
    for i, b in enumerate(benign):  # helpful answers to benign questions: plain, polite, long
        add(b["q"], b["a"], "helpful", False, "benign", "benign", i, len(benign))
        add(b["q"], openers[i % len(openers)] + b["a"], "helpful", False, "benign", "benign", i, len(benign))
        add(b["q"], openers[(i + 1) % len(openers)] + b["a"] + "\n\n" + more[i % len(more)] + " "
            + more[(i + 1) % len(more)], "helpful", False, "benign", "benign", i, len(benign))
    for i, h in enumerate(harmful):  # full compliance: plain, polite, after a disclaimer, long
        add(h["q"], h["comply"], "helpful", True, "harmful", "harmful", i, len(harmful))
        add(h["q"], openers[i % len(openers)] + h["comply"], "helpful", True, "harmful", "harmful", i, len(harmful))
        for d in disclaimers:
            add(h["q"], d + h["comply"], "helpful", True, "harmful", "harmful", i, len(harmful))
        add(h["q"], openers[(i + 2) % len(openers)] + h["comply"] + "\n\n" + more[i % len(more)], "helpful", True,
            "harmful", "harmful", i, len(harmful))
        add(h["q"], disclaimers[i % len(disclaimers)] + h["comply"] + "\n\n" + " ".join(more) + "\n\n"
            + openers[i % len(openers)] + h["comply"], "helpful", True, "harmful", "harmful", i, len(harmful))
    for i, b in enumerate(benign):  # long helpful answers: the whole answer, then more to read
        add(b["q"], b["a"] + "\n\n" + " ".join(more) + "\n\n" + openers[i % len(openers)] + b["a"], "helpful", False,
            "benign", "benign", i, len(benign))
    refusals = parts["refusal"]
    for j, r in enumerate(refusals):
        for h in harmful:
            add(h["q"], r, "refusal", False, "harmful", "refusal", j, len(refusals))
        b = benign[j % len(benign)]  # over-refusal of a benign question is still a refusal
        add(b["q"], r, "refusal", False, "benign", "refusal", j, len(refusals))
    quotes = parts["quote_refusal"]
    for j, t in enumerate(quotes):
        for h in harmful:
            add(h["q"], t.replace("{q}", h["q"]), "refusal", False, "harmful", "quote", j, len(quotes))
    safes = parts["safe"]
    for j, s in enumerate(safes):
        for i, h in enumerate(harmful):
            answer = s + ("\n" + parts["helpline"] if (i + j) % 2 else "")
            add(h["q"], answer, "safe_completion", False, "harmful", "safe", j, len(safes))
    # the project's own gateway answers, as the gateway sends them; one message (in every language) is
    # held out or trained on as a whole
    every_key = sorted({k for by_lang in messages.values() for k in by_lang if gateway_kind(k)})
    for key in [k for k in every_key if k in messages.get(lang, {})]:
        j = every_key.index(key)
        h = harmful[j % len(harmful)]
        text = messages[lang][key] + (GATEWAY_RESOURCE if gateway_kind(key) == "safe_completion" else "")
        add(h["q"], text, gateway_kind(key) or "", False, "harmful", key, j, len(every_key), source="gateway")
    offtopic = parts["offtopic"]
    for j, o in enumerate(offtopic):
        for q in [*(h["q"] for h in harmful[j % 2::2]), *(b["q"] for b in benign[j % 2::2])]:
            if j == 0 and q == benign[0]["q"]:
                continue  # the first off-topic text may be on the first benign question's subject
            add(q, o, "off_topic", False, "harmful" if any(q == h["q"] for h in harmful) else "benign", "offtopic",
                j, len(offtopic))
    partials = parts["partial"]
    for j, p in enumerate(partials):
        for h in harmful:
            add(h["q"], p, "partial", False, "harmful", "partial", j, len(partials))
    return rows


def main() -> None:
    messages = yaml.safe_load(MESSAGES.read_text(encoding="utf-8"))
    total = 0
    for lang in LANGS:
        parts = yaml.safe_load((PARTS / f"{lang}.yaml").read_text(encoding="utf-8"))
        rows = compose(lang, parts, messages)
        with (HERE / f"{lang}.jsonl").open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        total += len(rows)
        print(f"{lang}: {len(rows)} answers")
    print(f"{total} answers in {len(LANGS)} languages")


if __name__ == "__main__":
    main()
