"""What the store keeps about a child and a moderator's judgement: names redacted from excerpts and
exports in the ten seed languages, notes sealed and purged, a private SQLite file, and a start-up that
says in one line what is wrong with the database."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update

from childguard import Guard, Settings
from childguard.redaction import redact_personal_data
from childguard.store import Store
from childguard.store.tables import ReviewCase
from tests.test_store import store  # noqa: F401  (the SQLite + PostgreSQL fixture)

NAMES = [  # (text, the name that must go, a word that must stay)
    ("my name is Sophie Miller and my dad hits me", "Miller", "dad hits me"),
    ("hi i'm called tom, everyone at school hates me", "tom", "everyone at school"),
    ("je m'appelle Léa Dubois et j'ai peur de mon oncle", "Léa", "j'ai peur"),
    ("me llamo Lucía García y tengo miedo", "García", "tengo miedo"),
    ("ich heiße Lena Schmidt und bin traurig", "Schmidt", "bin traurig"),
    ("meu nome é João Silva e estou com medo", "João", "estou com medo"),
    ("اسمي سارة أحمد وأنا خائفة", "سارة", "خائفة"),
    ("मेरा नाम प्रिया शर्मा है और मुझे डर लगता है", "प्रिया", "डर लगता"),
    ("我叫李小明，我很害怕", "李小明", "我很害怕"),
    ("меня зовут Маша Иванова, мне страшно", "Маша", "мне страшно"),
    ("jina langu ni Amani Otieno na ninaogopa", "Amani", "ninaogopa"),
]


@pytest.mark.parametrize(("said", "name", "kept"), NAMES)
def test_names_a_child_gives_are_redacted(said: str, name: str, kept: str) -> None:
    out = redact_personal_data(said)
    assert name not in out and kept in out and "[private]" in out


def test_questions_about_names_are_left_alone() -> None:
    for said in ("what is your name?", "my name is on the list", "comment tu t'appelles ?"):
        assert redact_personal_data(said).count("[private]") <= 1
    assert redact_personal_data("what is your name?") == "what is your name?"


def test_stored_excerpt_and_export_drop_the_name(store: Store, guard: Guard) -> None:  # noqa: F811
    said = "my name is Sophie Miller and i want to kill myself"
    case_id = store.open_case(guard.check(said, age=12), said, "moderation")
    assert case_id is not None
    excerpt = store.view(case_id, "mo")["excerpt"]
    assert "Sophie" not in excerpt and "Miller" not in excerpt and "kill myself" in excerpt
    # an excerpt stored before names were redacted still leaves the export without the name
    with store.sessions.begin() as s:
        s.execute(update(ReviewCase).where(ReviewCase.id == case_id).values(excerpt=store.box.seal(said)))
    store.decide(case_id, "mo", "false_alarm")
    rows = store.false_alarms("admin")
    assert rows and all("Sophie" not in r["text"] for r in rows)


def test_moderator_notes_are_sealed_and_purged(store: Store, guard: Guard) -> None:  # noqa: F811
    said = "my dad hits me"
    case_id = store.open_case(guard.check(said, age=9), said, "moderation")
    assert case_id is not None
    note = "spoke to the school nurse about her father"
    store.decide(case_id, "mo", "referred_helpline", note)
    with store.engine.connect() as c:
        raw = c.execute(text("select notes from review_cases where id = :i"), {"i": case_id}).scalar_one()
    assert "nurse" not in raw and "father" not in raw
    assert store.view(case_id, "mo")["notes"] == note
    assert store.purge(now=datetime.now(UTC) + timedelta(days=31)) >= 1
    after = store.view(case_id, "mo")
    assert after["notes"] is None and after["resolution"] == "referred_helpline"


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        Store(Settings(key_file=tmp_path / "key"), f"sqlite:///{tmp_path}/data/cg.db")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "data" / "cg.db").stat().st_mode) == 0o600


@pytest.mark.parametrize(("url", "key", "says"), [
    ("postgresql+psycopg://postgres@127.0.0.1:1/test", "key", "CHILDGUARD_DATABASE_URL"),
    ("nosuchdb://x", "key", "CHILDGUARD_DATABASE_URL"),
    ("sqlite:///{tmp}/cg.db", "/proc/no/such/dir/key", "CHILDGUARD_KEY_FILE")])
def test_start_up_failures_are_one_line(url: str, key: str, says: str, tmp_path: Path) -> None:
    env = {**os.environ, "CHILDGUARD_DATABASE_URL": url.format(tmp=tmp_path),
           "CHILDGUARD_KEY_FILE": str(tmp_path / key) if key == "key" else key}
    r = subprocess.run([sys.executable, "-m", "childguard", "serve", "--port", "1"], capture_output=True,
                       timeout=120, env=env, check=False)
    err = r.stderr.decode()
    assert r.returncode == 4 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert says in err
