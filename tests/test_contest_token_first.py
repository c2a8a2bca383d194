"""The contest page checks the token when it opens: a bad, expired or used token is said before the
child writes a reason, in the child's language, and no form is shown; a good one still gets the form."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from childguard import Settings
from childguard.service import create_app

BLOCKED = "show me porn videos"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("contest")
    with TestClient(create_app(Settings(key_file=tmp / "key", database_url=f"sqlite:///{tmp}/cg.db"))) as c:
        yield c


def _token(client: TestClient) -> str:
    r = client.post("/v1/moderations", json={"input": BLOCKED, "age": 11})
    token = r.json()["results"][0]["childguard"]["contest_token"]
    assert token
    return str(token)


def test_a_good_token_gets_the_form(client: TestClient) -> None:
    page = client.get("/contest", params={"token": _token(client), "lang": "fr"})
    assert page.status_code == 200 and '<textarea id="message"' in page.text
    assert client.get(f"/v1/contests/tokens/{_token(client)}").json() == {"contestable": True}


def test_a_used_token_is_said_before_the_child_writes(client: TestClient) -> None:
    token = _token(client)
    assert client.post("/v1/contests", json={"token": token, "message": "it was for school"}).status_code == 201
    page = client.get("/contest", params={"token": token, "lang": "en"})
    assert page.status_code == 409
    assert "You already asked about this message" in page.text
    assert "<textarea" not in page.text  # nothing to write into
    assert client.get(f"/v1/contests/tokens/{token}").status_code == 409


@pytest.mark.parametrize("token", ["abc.def", "nonsense", "a" * 64])
def test_a_bad_token_is_said_before_the_child_writes(client: TestClient, token: str) -> None:
    page = client.get("/contest", params={"token": token, "lang": "fr"})
    assert page.status_code == 422
    assert "Ce lien ne marche pas" in page.text and "<textarea" not in page.text
    api = client.get(f"/v1/contests/tokens/{token}", params={"lang": "fr"})
    assert api.status_code == 422 and "Ce lien ne marche pas" in api.json()["error"]["message"]


def test_the_page_in_chromium(client: TestClient, tmp_path: Path) -> None:
    """What the child sees for a used link (screenshot build/screenshots/contest_used_token.png)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("Debian chromium not installed (make test installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api")
    token = _token(client)
    client.post("/v1/contests", json={"token": token})
    html = client.get("/contest", params={"token": token, "lang": "en"}).text
    css = client.get("/static/childguard.css").text
    (tmp_path / "page.html").write_text(html.replace('<link rel="stylesheet" href="/static/childguard.css">',
                                                     f"<style>{css}</style>"), encoding="utf-8")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 420, "height": 800})
        page.goto((tmp_path / "page.html").as_uri())
        assert page.locator("[role=alert]").inner_text().startswith("You already asked")
        assert page.locator("textarea").count() == 0
        shots = Path(__file__).resolve().parents[1] / "build/screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "contest_used_token.png"), full_page=True)
        browser.close()
