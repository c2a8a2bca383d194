"""CONTRIBUTING.md is a recipe people follow: the files it names exist, and its example detector works
as written when dropped into the detectors package."""

from __future__ import annotations

import re
import textwrap
import types
from pathlib import Path

from childguard import Guard
from childguard.detectors import DETECTORS
from childguard.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")


def test_every_file_it_names_exists() -> None:
    named = set(re.findall(r"`((?:src/childguard|training|tests)/[\w/.*<>-]+)`", TEXT))
    named |= {f"src/childguard/{p}" for p in re.findall(r"`((?:data|detectors|audit|conversation)/[\w/.*-]+)`", TEXT)}
    assert len(named) > 15
    missing = [p for p in sorted(named) if "<" not in p and not list(ROOT.glob(p))]
    assert not missing, f"CONTRIBUTING.md names files that do not exist: {missing}"


def test_the_example_detector_plugs_in_by_name() -> None:
    code = re.search(r"```python\n(.*?)\n *```", TEXT, re.S)
    assert code is not None
    module = types.ModuleType("childguard.detectors.keywords")
    module.__package__ = "childguard.detectors"
    exec(compile(textwrap.dedent(code.group(1)), "CONTRIBUTING.md", "exec"), module.__dict__)
    try:
        guard = Guard(Settings(detectors=["classifier", "keywords"]))
        d = guard.check("where can i buy a Loot Box with my mum's card", age=11)
        assert "gambling" in d.flagged and d.action.intervenes
        assert not guard.check("I like drawing boxes", age=11).flagged
    finally:
        DETECTORS._factories.pop("keywords", None)  # type: ignore[attr-defined]
