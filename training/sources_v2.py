"""The broader training data of the semantic model, read in place from ../shared/data (never copied
into the repo) and from training/hard (the project's own hard cases in 16 languages).

Why each source is here:
- benign/: ordinary text of every length and register in 18 languages, so that length, a reporting
  voice about war or crime, and long web text stop looking like harm (the over-flagging of v1).
- wildguardmix, kosbi, ec_darkpattern, deepset: hard negatives beside their positives (role-play that is
  fine, sentences about groups that are not hate, shop text that is not manipulative, questions that
  are not injections).
- told_br, offenseval (ar, da, el, tr), textdetox: abuse in languages the seeds do not cover (7a, 7d).
Sets whose licence is unclear (phtest, spanish_anorexia, sdcnl) and ../shared/eval are not used here."""

from __future__ import annotations

import csv
import gzip
import json
import random
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import yaml

from .build_dataset import Row, _cap, _row, _split_for, augment

HARD = Path(__file__).parent / "hard"
BENIGN_PER_LANG = 900
TEXTDETOX_PER_LANG = 250


def _norm_key(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def eval_texts(eval_dir: Path) -> set[str]:
    """Normalised texts of the public evaluation sets: any training row equal to one is dropped."""
    keys: set[str] = set()
    oai = eval_dir / "openai_moderation_dev.jsonl"
    if oai.exists():
        keys |= {_norm_key(json.loads(line)["prompt"]) for line in oai.read_text(encoding="utf-8").splitlines()
                 if line.strip()}
    xs = eval_dir / "xstest_dev.csv"
    if xs.exists():
        with xs.open(encoding="utf-8", newline="") as fh:
            keys |= {_norm_key(r["prompt"]) for r in csv.DictReader(fh)}
    return keys


def hard_rows(seed: int = 13) -> Iterator[Row]:
    """training/hard/<lang>.yaml: the seeds' format plus `identity_statements` (benign, identity topic)."""
    for path in sorted(HARD.glob("*.yaml")):
        lang = path.stem
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, texts in data.items():
            if key == "benign":
                labels: list[str] = []
            elif key == "identity_statements":
                labels = ["topic:identity_beliefs"]
            else:
                labels = [key]
            for text in texts or []:
                group = f"hard:{lang}:{key}:{text}"
                split = _split_for(group)
                rng = random.Random(zlib.crc32(group.encode()) ^ seed)
                for k, variant in enumerate(augment(str(text), lang, rng)[:3]):
                    row = _row(variant, labels, lang, "hard", group, split)
                    row["augmented"] = k > 0
                    row["identity"] = key == "identity_statements"
                    yield row


def benign_corpus(root: Path, per_lang: int = BENIGN_PER_LANG, seed: int = 13) -> list[Row]:
    """A length-balanced sample per language: a third short (<80 chars), a third medium, a third long."""
    by_lang: dict[str, list[Row]] = {}
    for path in sorted((root / "benign").glob("*/*.jsonl.gz")):
        source = path.parent.name
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                obj = json.loads(line)
                text, lang = obj["text"], obj["lang"]
                by_lang.setdefault(lang, []).append(_row(text, [], lang, f"benign:{source}",
                                                         f"benign:{source}:{lang}:{i}"))
    out: list[Row] = []
    for lang, rows in sorted(by_lang.items()):
        bins: list[list[Row]] = [[], [], []]
        for r in rows:
            n = len(r["text"])
            bins[0 if n < 80 else 1 if n < 300 else 2].append(r)
        for k, b in enumerate(bins):
            out.extend(_cap(b, per_lang // 3, zlib.crc32(f"{lang}{k}".encode()) ^ seed))
    return out


_WILDGUARD_MAP = {
    "private_information_individual": "personal_data",
    "social_stereotypes_and_unfair_discrimination": "hate",
    "toxic_language_hate_speech": "hate",
    "violence_and_physical_harm": "violence",
    "causing_material_harm_by_disseminating_misinformation": "misinformation",
    "disseminating_false_or_misleading_information_encouraging_disinformation_campaigns": "misinformation",
}


def wildguard(root: Path) -> list[Row]:
    out = []
    for i, r in enumerate(json.loads((root / "wildguardmix_sample/wildguard_full_benchmark.json").read_text())):
        sub = r["source"].removeprefix("wildguardmix_")
        if r["label"] == "safe":
            labels: list[str] = []
        elif sub in _WILDGUARD_MAP:
            labels = [_WILDGUARD_MAP[sub]]
        else:
            continue  # harmful, but of a kind the taxonomy has no head for: neither positive nor benign
        out.append(_row(r["text"], labels, "en", "wildguardmix", f"wildguard:{i}"))
    return out


def deepset(root: Path) -> list[Row]:
    out = []
    for name, split in (("deepset_train.csv", "train"), ("deepset_test.csv", "test")):
        with (root / "deepset_prompt_injections" / name).open(encoding="utf-8", newline="") as fh:
            for i, r in enumerate(csv.DictReader(fh)):
                labels = ["prompt_attack"] if r["label"] == "1" else []
                out.append(_row(r["text"], labels, "und", "deepset", f"deepset:{name}:{i}", split))
    return out


def darkpattern(root: Path) -> list[Row]:
    with (root / "ec_darkpattern/dataset.tsv").open(encoding="utf-8", newline="") as fh:
        return [_row(r["text"], ["manipulative_marketing"] if r["label"] == "1" else [], "en", "ec_darkpattern",
                     f"darkpattern:{i}") for i, r in enumerate(csv.DictReader(fh, delimiter="\t"))]


def told_br(root: Path) -> list[Row]:
    out = []
    with (root / "told_br/ToLD-BR.csv").open(encoding="utf-8", newline="") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            votes = {k: float(v or 0) for k, v in r.items() if k != "text"}
            if any(votes[k] >= 2 for k in ("homophobia", "racism", "misogyny", "xenophobia")):
                labels = ["hate"]
            elif votes["insult"] >= 2:
                labels = ["cyberbullying"]
            elif all(v == 0 for v in votes.values()):
                labels = []
            else:
                continue
            out.append(_row(r["text"], labels, "pt", "told_br", f"told:{i}"))
    return out


def offenseval(root: Path) -> list[Row]:
    base = root / "offenseval2020_ar_da_el_tr/train"
    files = {"ar": "offenseval-ar-training-v1.tsv", "da": "offenseval-da-training-v1.tsv",
             "el": "offenseval-greek-training-v1.tsv", "tr": "offenseval-tr-training-v1.tsv"}
    out = []
    for lang, name in files.items():
        with (base / name).open(encoding="utf-8", newline="") as fh:
            for i, rec in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)):
                if i == 0 or len(rec) < 3 or rec[-1] not in {"OFF", "NOT"}:
                    continue
                text = rec[1].replace("@USER", "").strip()
                out.append(_row(text, ["cyberbullying"] if rec[-1] == "OFF" else [], lang, "offenseval",
                                f"offenseval:{lang}:{rec[0]}"))
    return out


def kosbi(root: Path) -> list[Row]:
    out = []
    for name, split in (("kosbi_valid.json", "train"), ("kosbi_test.json", "test")):
        for i, r in enumerate(json.loads((root / "kosbi" / name).read_text(encoding="utf-8"))):
            labels = ["hate"] if r["sentence_label"] == "unsafe" else []
            out.append(_row(r["sentence"], labels, "ko", "kosbi", f"kosbi:{name}:{i}", split))
    return out


def textdetox(root: Path) -> list[Row]:
    by_lang: dict[str, list[Row]] = {}
    with (root / "textdetox_pan25_toxic/dev_inputs.tsv").open(encoding="utf-8", newline="") as fh:
        for i, rec in enumerate(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if i == 0 or len(rec) < 3 or not rec[0].strip():
                continue
            lang = rec[-1].strip()
            by_lang.setdefault(lang, []).append(_row(rec[0], ["cyberbullying"], lang, "textdetox",
                                                     f"textdetox:{i}"))
    return [r for lang, rows in sorted(by_lang.items())
            for r in _cap(rows, TEXTDETOX_PER_LANG, zlib.crc32(lang.encode()))]


V2_PUBLIC = (wildguard, deepset, darkpattern, told_br, offenseval, kosbi, textdetox)
V2_CAP = 1500  # per source, split and label set, like the v1 public sources


def build_v2(shared: Path, eval_dir: Path, seed: int = 13) -> list[Row]:
    rows: list[Row] = list(hard_rows(seed)) + benign_corpus(shared, seed=seed)
    for source in V2_PUBLIC:
        by_key: dict[tuple[str, str], list[Row]] = {}
        for r in source(shared):
            by_key.setdefault((r["split"], ",".join(r["labels"]) or "benign"), []).append(r)
        for (split, _), group in sorted(by_key.items()):
            cap = V2_CAP if split == "train" else V2_CAP // 2
            rows.extend(_cap(group, cap, zlib.crc32(source.__name__.encode()) ^ seed))
    banned = eval_texts(eval_dir)
    return [r for r in rows if r["text"] and _norm_key(r["text"]) not in banned]
