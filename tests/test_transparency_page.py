"""The transparency page publishes languages only, whole category names and chart text people can read;
checked in headless Chromium (screenshot build/screenshots/transparency_readable.png)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from childguard import Settings
from childguard.store import Store
from childguard.store.tables import DecisionCount
from tests.test_service import _serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _seed(store: Store) -> None:
    """Counts as an older version stored them: 'xx' was accepted as a language then."""
    day = datetime.now(UTC).date().isoformat()
    cells = [("emotional_dependency", "redirect", "10-12", "en", 7), ("self_harm", "escalate", "13-15", "fr", 6),
             ("none", "allow", "10-12", "xx", 9), ("none", "allow", "6-9", "en", 12),
             ("none", "allow", "6-9", "und", 5)]
    with store.sessions.begin() as s:
        for category, action, band, lang, n in cells:
            s.add(DecisionCount(day=day, source="moderation", category=category, action=action, age_band=band,
                                lang=lang, count=n))


def test_only_real_languages_are_published(tmp_path: Path) -> None:
    cfg = Settings(key_file=tmp_path / "key", database_url=f"sqlite:///{tmp_path}/cg.db", transparency_min_count=1)
    store = Store(cfg)
    _seed(store)
    for url in _serve(cfg, store=store):
        data = httpx.get(f"{url}/v1/transparency").json()
        assert "xx" not in data["by_language"] and data["by_language"]["other"] == 9
        assert data["by_language"]["en"] == 19 and data["by_language"]["und"] == 5
        page = httpx.get(f"{url}/transparency").text
        assert ">English (en)<" in page and ">other codes<" in page and ">xx<" not in page
        assert ">Emotional dependency<" in page  # the whole name, not "Emotional dependen"
        if not Path(CHROMIUM).exists():
            pytest.skip("Debian chromium not installed (make test installs it as root)")
        sync_api = pytest.importorskip("playwright.sync_api")
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for width in (1200, 390):
                view = browser.new_page(viewport={"width": width, "height": 900})
                view.goto(f"{url}/transparency")
                label = view.locator("ul.bars .label", has_text="Emotional dependency")
                assert label.inner_text() == "Emotional dependency"
                box = label.bounding_box()
                bar = view.locator("ul.bars").nth(1).locator("svg.bar").first.bounding_box()
                assert box and bar and box["x"] + box["width"] <= bar["x"] + 1  # the label ends before its bar
                sizes = view.evaluate("() => [...document.querySelectorAll('ul.bars span')].map(t => "
                                      "parseFloat(getComputedStyle(t).fontSize))")
                assert sizes and min(sizes) >= 15  # was 12px, scaled down with the chart
                wide = view.evaluate("() => [...document.querySelectorAll('ul.bars, ul.bars *')].filter(e => "
                                     "e.getBoundingClientRect().right > innerWidth).map(e => e.tagName)")
                assert not wide, wide  # no chart is wider than the screen
                assert view.evaluate("() => document.documentElement.scrollWidth") <= width  # nor the page
                shots = Path(__file__).resolve().parents[1] / "build/screenshots"
                shots.mkdir(parents=True, exist_ok=True)
                view.screenshot(path=str(shots / f"transparency_readable_{width}.png"), full_page=True)
                view.close()
            browser.close()
