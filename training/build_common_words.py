"""Builds src/childguard/data/common_words/<lang>.txt.gz: the most frequent lower-case words of ordinary text
per language, from ../shared/data/benign. The name redactor uses them to tell "i'm sophie" (a name) from
"i'm tired" (a word) after a weak lead-in such as "i am", "je suis" or "я", where children type names in
lower case. A word counts only where it is written in lower case at least as often as capitalised, so
names that are frequent in news ("Tom", "Paris") do not become common words. Seeded by nothing: counts
are exact; every 10th line is held out for measuring.
Run: python training/build_common_words.py [../shared/data/benign]"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections import Counter
from pathlib import Path

LANGS = ("en", "es", "fr", "de", "pt", "ar", "hi", "sw", "zh", "ru", "it", "id", "ko", "tr", "vi", "bn")
TOP = 20000
# caseless scripts cannot tell a name from a word by its capital, so frequent names would enter a long list
TOP_CASELESS = 5000
CASELESS = frozenset({"ar", "hi", "bn", "zh", "ko"})
HELD_OUT = 10  # every 10th line of each file is left out, so bench/bench_names.py measures on unseen text
# letters, and the vowel signs of Devanagari and Bengali (combining marks, which `\w` does not match)
_LETTER = r"(?:[^\W\d_]|[\u0900-\u0963\u0971-\u09e5\u09f0-\u09ff])"
_WORD = re.compile(f"{_LETTER}(?:{_LETTER}|['’-])*")
_HAN = re.compile(r"[\u4e00-\u9fff]+")
OUT = Path(__file__).resolve().parents[1] / "src" / "childguard" / "data" / "common_words"


def count(root: Path, lang: str) -> tuple[Counter[str], Counter[str]]:
    lower: Counter[str] = Counter()
    upper: Counter[str] = Counter()
    for path in sorted(root.glob(f"*/{lang}.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                if n % HELD_OUT == 0:
                    continue
                text = json.loads(line)["text"]
                if lang == "zh":  # no spaces: the 2- and 3-character sequences stand for words
                    for run in _HAN.findall(text):
                        lower.update(run[i:i + n] for n in (2, 3) for i in range(len(run) - n + 1))
                    continue
                for i, m in enumerate(_WORD.finditer(text)):
                    w = m.group(0)
                    key = w.casefold()
                    if w[0].isupper():
                        if i:  # a capital at the start of a text says nothing
                            upper[key] += 1
                    else:
                        lower[key] += 1
    return lower, upper


def main(root: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _, english_capitals = count(root, "en")
    for lang in LANGS:
        lower, upper = count(root, lang)
        total = lower + upper
        if lang == "de":  # German nouns are capitalised: a capital word is common unless English capitalises it too
            words = [w for w, _ in total.most_common() if lower[w] >= upper[w] or english_capitals[w] < 3][:TOP]
        else:
            top = TOP_CASELESS if lang in CASELESS else TOP
            words = [w for w, _ in total.most_common() if lower[w] >= upper[w]][:top]
        data = ("\n".join(sorted(words)) + "\n").encode("utf-8")
        (OUT / f"{lang}.txt.gz").write_bytes(gzip.compress(data, mtime=0))  # mtime 0: reproducible bytes
        print(lang, len(words))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data" / "benign")
