"""Build the training and held-out rows from ../shared/data (public datasets, read in place, never
copied into the repo) and training/seeds (the project's own data).

Every row: {"text", "labels": [...], "lang", "source", "group", "split"}. Labels are taxonomy ids,
`topic:<id>` for sensitive-but-legitimate topics, or [] for benign. The split is decided per *group*
(a seed and all its augmentations, or a row of a public dataset), using the dataset's official split
where it has one, so nothing held out leaks into training."""

from __future__ import annotations

import csv
import json
import random
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

SEEDS = Path(__file__).parent / "seeds"
HELDOUT_SHARE = 0.25
Row = dict[str, Any]

csv.field_size_limit(10_000_000)


def _split_for(key: str, share: float = HELDOUT_SHARE) -> str:
    return "test" if (zlib.crc32(key.encode()) % 1000) / 1000 < share else "train"


def _row(text: str, labels: list[str], lang: str, source: str, group: str, split: str | None = None) -> Row:
    return {"text": text.strip(), "labels": labels, "lang": lang, "source": source, "group": group,
            "split": split or _split_for(group)}


def _cap(rows: list[Row], n: int, seed: int) -> list[Row]:
    if len(rows) <= n:
        return rows
    rng = random.Random(seed)
    return rng.sample(rows, n)


# --- the project's own seeds, with augmentation -------------------------------------------------------

_OPENERS = {
    "en": ["hey", "um", "so", "pls", "question:", "ok so", "hi"],
    "fr": ["salut", "euh", "alors", "stp", "question :"],
    "es": ["hola", "oye", "pues", "porfa", "pregunta:"],
    "de": ["hey", "ähm", "also", "bitte", "frage:"],
    "pt": ["oi", "então", "tipo", "por favor", "pergunta:"],
    "ar": ["مرحبا", "سؤال:", "لو سمحت"],
    "sw": ["habari", "swali:", "tafadhali"],
    "hi": ["नमस्ते", "सवाल:", "प्लीज़"],
    "zh": ["你好", "问一下", "请问"],
    "ru": ["привет", "слушай", "вопрос:"],
}
_CLOSERS = ["", "?", "!!", " lol", " 😢", " 🙂", "...", " pls"]
_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5"})


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 6:
        return text
    i = rng.randrange(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def augment(text: str, lang: str, rng: random.Random) -> list[str]:
    openers = _OPENERS.get(lang, _OPENERS["en"])
    variants = [
        text,
        f"{rng.choice(openers)} {text}",
        f"{text}{rng.choice(_CLOSERS)}",
        _typo(text, rng),
        text.upper() if lang not in {"zh", "ar", "hi"} else f"{text} {text[-4:]}",
    ]
    if lang in {"en", "fr", "es", "de", "pt", "sw"}:
        words = text.split()
        if words:
            j = rng.randrange(len(words))
            words[j] = words[j].translate(_LEET) if rng.random() < 0.5 else " ".join(words[j])
            variants.append(" ".join(words))
    return list(dict.fromkeys(v for v in variants if v.strip()))


def seed_rows(seed: int = 13) -> Iterator[Row]:
    for path in sorted(SEEDS.glob("*.yaml")):
        lang = path.stem
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, texts in data.items():
            labels = [] if key == "benign" else [key]
            for text in texts:
                group = f"seed:{lang}:{key}:{text}"
                split = _split_for(group)
                rng = random.Random(zlib.crc32(group.encode()) ^ seed)
                for k, variant in enumerate(augment(str(text), lang, rng)):
                    row = _row(variant, labels, lang, "seeds", group, split)
                    row["augmented"] = k > 0
                    yield row


TEMPLATES = Path(__file__).parent / "templates"


def template_rows(seed: int = 13) -> Iterator[Row]:
    """frames x cores; the group is the core, so a held-out core is a harmful phrasing never trained on."""
    for path in sorted(TEMPLATES.glob("*.yaml")):
        lang = path.stem
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, spec in data.items():
            label = spec.get("label", key)
            labels = [] if label == "benign" else [label]
            for core in spec["cores"]:
                group = f"template:{lang}:{key}:{core}"
                split = _split_for(group)
                rng = random.Random(zlib.crc32(group.encode()) ^ seed)
                for frame in spec["frames"]:
                    text = frame.replace("{core}", core)
                    yield _row(text, labels, lang, "templates", group, split)
                    if rng.random() < 0.3:
                        yield _row(_typo(text, rng), labels, lang, "templates", group, split)


# --- public datasets in ../shared/data ----------------------------------------------------------------

def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def davidson(root: Path) -> list[Row]:
    rows = _read_csv(root / "davidson-hate/labeled_data.csv")
    hate = [_row(r["tweet"], ["hate"], "en", "davidson", f"davidson:{r['']}") for r in rows if r["class"] == "0"]
    benign = [_row(r["tweet"], [], "en", "davidson", f"davidson:{r['']}") for r in rows if r["class"] == "2"]
    return hate + _cap(benign, 2500, 1)


def hatexplain(root: Path) -> list[Row]:
    splits = json.loads((root / "hatexplain/post_id_divisions.json").read_text())
    test_ids = set(splits["test"])
    out = []
    for r in _read_csv(root / "hatexplain/092-HateXplain_MBIB.csv"):
        labels = {"1": ["hate"], "0": []}.get(r["category"])
        if labels is None:
            continue
        split = "test" if r["id"] in test_ids else "train"
        out.append(_row(r["text"], labels, "en", "hatexplain", f"hatexplain:{r['id']}", split))
    return _cap(out, 6000, 2)


def stormfront(root: Path) -> list[Row]:
    out = []
    for r in _read_csv(root / "stormfront-hate/stormfront_hate.csv"):
        if r["label"] not in {"hate", "noHate"}:
            continue
        split = "test" if r["sampled_split"] == "test" else None
        out.append(_row(r["text"], ["hate"] if r["label"] == "hate" else [], "en", "stormfront",
                        f"stormfront:{r['file_id']}", split))
    hate = [r for r in out if r["labels"]]
    return hate + _cap([r for r in out if not r["labels"]], 2000, 3)


def mlma(root: Path) -> list[Row]:
    out = []
    for lang in ("en", "fr", "ar"):
        for r in _read_csv(root / f"mlma/hate_speech_mlma/{lang}_dataset.csv"):
            sentiment = r["sentiment"]
            if "hateful" in sentiment:
                labels = ["hate"]
            elif sentiment == "normal":
                labels = []
            else:
                continue
            out.append(_row(r["tweet"], labels, lang, "mlma", f"mlma:{lang}:{r['HITId']}"))
    return out


def germeval(root: Path) -> list[Row]:
    out = []
    for name, split in (("germeval2018.training.txt", "train"), ("germeval2018.test.txt", "test")):
        for i, line in enumerate((root / "germeval2018" / name).read_text(encoding="utf-8").splitlines()):
            parts = line.split("\t")
            if len(parts) != 3:
                continue
            text, _, fine = parts
            labels = {"ABUSE": ["hate"], "INSULT": ["cyberbullying"], "OTHER": []}.get(fine)
            if labels is None:
                continue
            out.append(_row(text, labels, "de", "germeval", f"germeval:{name}:{i}", split))
    return out


def korean(root: Path) -> list[Row]:
    out = []
    for name, split in (("train.tsv", "train"), ("dev.tsv", "test")):
        with (root / "korean-hate" / name).open(encoding="utf-8") as fh:
            for i, r in enumerate(csv.DictReader(fh, delimiter="\t")):
                labels = {"hate": ["hate"], "none": []}.get(r["hate"])
                if labels is not None:
                    out.append(_row(r["comments"], labels, "ko", "korean-hate", f"ko:{name}:{i}", split))
    return _cap(out, 4000, 4)


def cold(root: Path) -> list[Row]:
    out = []
    for name in ("train.csv", "test.csv"):
        for r in _read_csv(root / "cold-zh/COLDataset" / name):
            split = "test" if r["split"] == "test" else "train"
            out.append(_row(r["TEXT"], ["hate"] if r["label"] == "1" else [], "zh", "cold",
                            f"cold:{name}:{r['']}", split))
    return _cap(out, 5000, 5)


def toxigen(root: Path) -> list[Row]:
    out = []
    for path in sorted((root / "toxigen-prompts/prompts").glob("*.txt")):
        labels = ["hate"] if path.name.startswith("hate_") else []
        seen = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip().lstrip("-").strip()
            if text and text not in seen:
                seen.add(text)
                out.append(_row(text, labels, "en", "toxigen", f"toxigen:{text}"))
    return out


def jailbreaks(root: Path) -> list[Row]:
    base = root / "jailbreak-llms-itw"
    out = [_row(r["prompt"], ["prompt_attack"], "en", "jailbreak-itw", f"jb:{i}")
           for i, r in enumerate(_read_csv(base / "jailbreak_prompts_2023_05_07.csv")) if r["prompt"].strip()]
    mapping = {"Hate Speech": ["hate"], "Pornography": ["sexual_content"], "Physical Harm": ["violence"],
               "Financial Advice": [], "Legal Opinion": [], "Health Consultation": [], "Gov Decision": []}
    for r in _read_csv(base / "forbidden_question_set.csv"):
        labels = mapping.get(r["content_policy_name"])
        if labels is not None:
            out.append(_row(r["question"], labels, "en", "forbidden-questions", f"fq:{r['q_id']}:{r['question']}"))
    return out


_XSAFETY_LANG = {"sp": "es"}
_XSAFETY_MAP: dict[str, list[str]] = {
    "Goal_Hijacking": ["prompt_attack"],
    "Insult": ["cyberbullying"],
    "Mental_Health": ["topic:mental_wellbeing"],
    "Ethics_And_Morality": [],
    "Prompt_Leaking": [],
    "Physical_Harm": [],
}


def xsafety(root: Path) -> list[Row]:
    out = []
    for lang_dir in sorted((root / "xsafety").iterdir()):
        if not lang_dir.is_dir():
            continue
        lang = _XSAFETY_LANG.get(lang_dir.name, lang_dir.name)
        for path in sorted(lang_dir.glob("*.csv")):
            stem = path.stem.removesuffix("_n").removesuffix("_en")
            labels = _XSAFETY_MAP.get(stem)
            if labels is None:
                continue
            with path.open(encoding="utf-8-sig", newline="") as fh:
                for i, rec in enumerate(csv.reader(fh)):
                    text = ",".join(rec).strip().strip('"').strip()
                    if text:
                        # the same prompt index across languages shares a group: translations stay together
                        out.append(_row(text, list(labels), lang, "xsafety", f"xsafety:{stem}:{i}"))
    return out


PUBLIC_SOURCES = (davidson, hatexplain, stormfront, mlma, germeval, korean, cold, toxigen, jailbreaks, xsafety)


# Public data is plentiful for hate and benign tweets only; left uncapped it drowns the project's own
# child-specific seeds. These caps apply per source and per label set, to the training split only.
PUBLIC_TRAIN_CAP = 1500


def reviewed_rows(paths: list[Path]) -> list[Row]:
    """False alarms exported from the moderators' console (`/console/export/false-alarms.jsonl`): texts a
    human judged harmless although the model flagged them, so they become benign training rows (4i feeds
    back into 3e). Bad lines are skipped with a message, not fatal."""
    rows: list[Row] = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                item = json.loads(line)
                text, label = str(item["text"]), item.get("label", "benign")
            except (ValueError, KeyError, TypeError):
                print(f"{path}:{n}: not a console export row, skipped")
                continue
            if label != "benign" or not text.strip():
                continue
            group = f"reviewed:{item.get('case_id', n)}"
            rows.append(_row(text, [], str(item.get("lang") or "und"), "moderator_false_alarms", group))
    return rows


def build(shared: Path | None, seed: int = 13, reviewed: list[Path] | None = None) -> list[Row]:
    rows = list(seed_rows(seed)) + list(template_rows(seed)) + reviewed_rows(reviewed or [])
    if shared is not None:
        for source in PUBLIC_SOURCES:
            public = source(shared)
            by_key: dict[tuple[str, str], list[Row]] = {}
            for r in public:
                by_key.setdefault((r["split"], ",".join(r["labels"]) or "benign"), []).append(r)
            for (split, _), group in sorted(by_key.items()):
                cap = PUBLIC_TRAIN_CAP if split == "train" else PUBLIC_TRAIN_CAP // 2
                rows.extend(_cap(group, cap, zlib.crc32(source.__name__.encode()) ^ seed))
    return [r for r in rows if r["text"]]


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("build/dataset.jsonl"))
    ap.add_argument("--reviewed", type=Path, action="append", default=[],
                    help="false-alarm export of the console (JSONL); repeatable")
    args = ap.parse_args()
    rows = build(args.shared, reviewed=args.reviewed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} rows to {args.out}")


if __name__ == "__main__":
    main()
