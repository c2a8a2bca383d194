"""Data v3: contrastive rows, where the same topic words appear with and without harmful intent.

Why: with v1/v2 data every model learned topics, not harm (XSTest safe prompts stopped 30-50 %, a child's "12"
read as sexual). Three sources put benign text that uses risky words beside the harmful text:
- training/contrastive: the project's own pairs in 16 languages (a harmful row and its benign twin, one
  `twin_id`), plus benign short replies (bare numbers, "ok", emojis) that must never be stopped;
- polyguard_social (CC-BY-4.0): generated social posts, each unsafe post with a safe twin (`pair_index`);
- rtp_lx (MIT): native-speaker toxicity ratings in 28 languages; an item is one sentence opening rendered
  in every language, so it is split by `index`, never by row.
A pair or an item always lands on one side of every split (the group is the pair, not the row).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .build_dataset import Row, _row, _split_for
from .contrastive import ROOT as CONTRASTIVE_ROOT
from .contrastive import iter_rows

# polyguard_social names its categories per platform (81 spellings); the first pattern that matches wins.
# Categories with no counterpart in the taxonomy (spam, intellectual property, impersonation, moderator
# conduct, scams) keep only their safe twins, as benign rows: their unsafe side is harm of another kind.
_POLYGUARD_MAP: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.I), c) for p, c in (
        (r"child|under-age|cse\b", "sexual_minors"),
        (r"trafficking", "child_labour_trafficking"),
        (r"suicide|self-harm|self-injury", "self_harm"),
        (r"terror|extremis|dangerous org", "extremism"),
        (r"sexual|intimate|nudity|prostitution", "sexual_content"),
        (r"hate", "hate"),
        (r"harass|bully|abusive", "cyberbullying"),
        (r"gambling", "gambling"),
        (r"weapon|regulated goods|illegal & regulated|drugs", "drugs_alcohol"),
        (r"violen|gore|threat", "violence"),
        (r"privacy|doxx|personal", "personal_data"),
        (r"misinformation|disinformation|manipulated|synthetic media", "misinformation"),
    ))
# ratings 1-5 (mean of three native annotators); between these two the item is ambiguous and left out
RTP_TOXIC, RTP_BENIGN = 3.0, 1.5
_RTP_LANG = {"zh-hans": "zh", "zh-hant": "zh"}


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The objects of a JSON-lines file; split on newlines only (texts hold U+2028 and the like)."""
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            yield json.loads(line)


def polyguard_category(name: str) -> str | None:
    return next((cat for pattern, cat in _POLYGUARD_MAP if pattern.search(name)), None)


def contrastive_rows(root: Path = CONTRASTIVE_ROOT) -> list[Row]:
    out: list[Row] = []
    if not root.exists():
        return out
    skipped: list[str] = []
    for r in iter_rows(root, skipped=skipped):
        group = f"twin:{r.twin_id}" if r.twin_id else f"contrastive:{r.lang}:{r.text}"
        row = _row(r.text, list(r.categories) + ([f"topic:{r.topic}"] if r.topic else []), r.lang,
                   "contrastive", group)
        row.update(role=r.role, age=r.age, kind=r.kind, twin_id=r.twin_id)
        out.append(row)
    if skipped:
        print(f"contrastive: {len(skipped)} invalid rows left out (python -m training.contrastive names them)")
    return out


def polyguard(root: Path) -> list[Row]:
    out: list[Row] = []
    for r in _jsonl(root / "polyguard_social/polyguard_social_media_train.jsonl"):
        cat = polyguard_category(r["category"])
        unsafe = r["label"] == "unsafe"
        if unsafe and cat is None:
            continue
        # the twin of an unsafe post shares platform, category and pair_index
        group = f"polyguard:{r['platform']}:{r['category']}:{r['pair_index']}"
        row = _row(r["text"], [cat] if unsafe and cat else [], "en", "polyguard_social", group)
        row["twin_id"] = group
        out.append(row)
    return out


def _rtp_category(ann: dict[str, float]) -> str:
    top = max(("IdentityAttack", "Bias", "Violence", "SelfHarm", "SexualContent", "Insult"),
              key=lambda k: ann.get(k, 1.0))
    return {"IdentityAttack": "hate", "Bias": "hate", "Violence": "violence", "SelfHarm": "self_harm",
            "SexualContent": "sexual_content"}.get(top, "cyberbullying")


def rtp_lx(root: Path) -> list[Row]:
    out: list[Row] = []
    for r in _jsonl(root / "rtp_lx/rtp_lx_prompts_v0.3_train.jsonl"):
        tox = float(r["toxicity"])
        if RTP_BENIGN < tox < RTP_TOXIC:
            continue
        lang = _RTP_LANG.get(r["lang"].lower(), r["lang"].lower())
        group = f"rtp_lx:{r['index']}"  # every language's rendering of one item stays together
        labels = [_rtp_category(r.get("annotations") or {})] if tox >= RTP_TOXIC else []
        out.append(_row(r["text"], labels, lang, "rtp_lx", group, _split_for(group)))
    return out


def v3_rows(shared: Path | None) -> list[Row]:
    rows = contrastive_rows()
    if shared is not None:
        rows += polyguard(shared) + rtp_lx(shared)
    return [r for r in rows if r["text"]]


def validation_share(group: str, share: int = 5) -> bool:
    """One group in `share` of the training split sets the operating points (twins included)."""
    return zlib.crc32(("val" + group).encode()) % share == 0
