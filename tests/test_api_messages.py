"""Every API answers a malformed request in plain words: one sentence per field, no pydantic internals
(union branches, "valid dictionary"), a 400 naming invalid UTF-8, a sentence for a missing content type."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from childguard import Settings
from childguard.service import create_app

INTERNALS = ("Input should", "function-after", "constrained-str", "valid dictionary", "There was an error",
             ".int:", "body:")
BODIES: dict[str, dict[str, Any]] = {
    "/v1/moderations": {"input": "hello"},
    "/v1/conversations/messages": {"conversation": "c1", "sender": "s", "text": "hello"},
    "/v1/reports": {"kind": "bullying", "message": "they are mean to me"},
    "/v1/contests": {"token": "abc"},
    "/v1/consents": {"profile_id": "kid-1", "method": "card_check"},
}  # /v1/chat/completions reads its own body (service/chat_api.py, the gateway's)
AGE_12_5 = {"/v1/moderations": {"age": 12.5}, "/v1/conversations/messages": {"age": 12.5},
            "/v1/reports": {"age": 12.5}}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("api")
    with TestClient(create_app(Settings(key_file=tmp / "key", database_url=f"sqlite:///{tmp}/cg.db"))) as c:
        yield c


def _plain(r: Any) -> str:
    message = r.json()["error"]["message"]
    assert not any(bit in message for bit in INTERNALS), message
    return str(message)


@pytest.mark.parametrize("path", list(AGE_12_5))
def test_a_fractional_age_is_one_plain_sentence(client: TestClient, path: str) -> None:
    r = client.post(path, json={**BODIES[path], **AGE_12_5[path]})
    assert r.status_code == 422
    assert _plain(r) == "age: age 12.5 is not a whole number of years; give years (0-130) or a band like '10-12'"


@pytest.mark.parametrize("path", list(BODIES))
def test_invalid_utf8_is_a_400_that_names_it(client: TestClient, path: str) -> None:
    r = client.post(path, content=b'{"input": "\xff\xfe"}', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_text"
    assert "not valid UTF-8" in _plain(r)


@pytest.mark.parametrize("path", list(BODIES))
@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_a_missing_content_type_gets_a_sentence(client: TestClient, path: str, content_type: str | None) -> None:
    import json

    headers = {"content-type": content_type} if content_type else {}
    r = client.post(path, content=json.dumps(BODIES[path]).encode(), headers=headers)
    assert r.status_code == 422, r.text
    assert "Content-Type: application/json" in _plain(r)


@pytest.mark.parametrize("path", list(BODIES))
def test_broken_json_and_a_missing_body(client: TestClient, path: str) -> None:
    r = client.post(path, content=b'{"input": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in _plain(r)
    r = client.post(path)
    assert r.status_code == 422 and "needs a JSON body" in _plain(r)


@pytest.mark.parametrize("path", ["/v1/moderations", "/v1/conversations/messages"])
def test_the_role_wizard_gets_its_own_message(client: TestClient, path: str) -> None:
    r = client.post(path, json={**BODIES[path], "role": "wizard"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_role"
    assert "unknown role 'wizard'" in _plain(r)


def test_a_missing_field_and_a_wrong_type(client: TestClient) -> None:
    r = client.post("/v1/conversations/messages", json={"conversation": "c1", "text": "hi"})
    assert _plain(r) == "sender is required"
    r = client.post("/v1/conversations/messages", json={"conversation": "c1", "sender": "s", "text": 5})
    assert _plain(r).startswith("text should be a valid string")


def test_a_field_called_model_keeps_its_name(client: TestClient) -> None:
    r = client.post("/v1/moderations", json={"input": "hi", "model": "m" * 5000})
    assert r.status_code == 422 and _plain(r).startswith("model should have at most")
