"""The audit report opened in headless Chromium (Debian's chromium driven by Playwright): it renders,
its charts are there, it loads nothing from the network, and a screenshot is kept in build/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from childguard.testing import chat_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian chromium not installed (make test installs it as root)")
ROOT = Path(__file__).resolve().parents[1]


def test_report_renders_in_chromium(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    out = tmp_path / "audit"
    with chat_server("unsafe") as unsafe, chat_server("safe") as safe:
        r = subprocess.run([sys.executable, "-m", "childguard", "audit", "--target", unsafe, "--compare", safe,
                            "--out", str(out), "--langs", "en,fr,sw"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.on("request", lambda req: requests.append(req.url))
        page.goto((out / "report.html").as_uri())
        assert page.title() == "childguard audit"
        assert page.locator("svg").count() >= 4
        assert page.locator("text=In plain words").is_visible()
        assert page.locator("tr.bad").count() >= 1  # the unsafe target fails verified items
        shots = ROOT / "build/screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "audit_report.png"), full_page=True)
        browser.close()
    assert all(u.startswith("file://") for u in requests), requests
