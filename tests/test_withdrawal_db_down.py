"""Consent withdrawal with the database down (a stopped proxy in front of the real PostgreSQL): a 503
in the JSON envelope that says nothing was withdrawn, and the same request completes it later."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from childguard import Settings
from childguard.store import Store
from childguard.testing import TcpProxy
from tests.test_service import _serve
from tests.test_store import PG, _pg_up

pytestmark = pytest.mark.skipif(not _pg_up(), reason="PostgreSQL not reachable at 127.0.0.1:5432")


@pytest.fixture
def proxied_pg(tmp_path: Path) -> Iterator[tuple[Store, TcpProxy]]:
    proxy = TcpProxy("127.0.0.1", 5432).start()
    schema = f"cg_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG)
    with admin.begin() as c:
        c.execute(text(f"create schema {schema}"))
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test?options=-csearch_path%3D{schema}"
        yield Store(Settings(key_file=tmp_path / "key"), url), proxy
    finally:
        proxy.close()
        with admin.begin() as c:
            c.execute(text(f"drop schema {schema} cascade"))


def test_withdrawal_with_the_database_down_changes_nothing_and_can_be_repeated(
        proxied_pg: tuple[Store, TcpProxy], tmp_path: Path) -> None:
    store, proxy = proxied_pg
    for url in _serve(Settings(key_file=tmp_path / "key"), store=store):
        profile = f"kid-{uuid.uuid4().hex[:8]}"
        granted = httpx.post(f"{url}/v1/consents", json={"profile_id": profile, "method": "signed_form"})
        assert granted.status_code == 201
        mod = httpx.post(f"{url}/v1/moderations", json={"input": "my dad hits me", "age": 9, "profile": profile})
        assert mod.status_code == 200
        proxy.stop()
        try:
            w = httpx.post(f"{url}/v1/consents/{profile}/withdraw", json={}, timeout=30)
            assert w.status_code == 503, w.text
            assert w.json()["error"]["code"] == "store_unavailable" and "NOT withdrawn" in w.json()["error"]["message"]
        finally:
            proxy.start()
        assert httpx.get(f"{url}/v1/consents/{profile}").json()["status"] == "granted"
        done = httpx.post(f"{url}/v1/consents/{profile}/withdraw", json={}, timeout=30)
        assert done.status_code == 200 and done.json()["complete"]
        assert httpx.get(f"{url}/v1/consents/{profile}").json()["status"] == "withdrawn"
