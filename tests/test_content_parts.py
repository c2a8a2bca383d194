"""OpenAI content parts (`content: [{"type": "text", ...}]`) in the gateway and /v1/moderations
(issue 20): text parts are checked, image parts refused as "not supported yet" or passed per config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from childguard import Settings
from childguard.content_parts import Content, UnsupportedContentError, map_text, read_content
from childguard.errors import InvalidInputError
from tests.test_service import _serve
from tests.upstream_stub import Reply, upstream

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}


def test_read_content() -> None:
    assert read_content("hi") == Content("hi")
    parts = [{"type": "text", "text": "how do"}, {"type": "text", "text": "plants grow?"}]
    assert read_content(parts) == Content("how do\nplants grow?", 0, parts=True)
    assert read_content([*parts, IMAGE], images="pass") == Content("how do\nplants grow?", 1, parts=True)
    with pytest.raises(UnsupportedContentError, match="not supported yet"):
        read_content([*parts, IMAGE])
    with pytest.raises(UnsupportedContentError, match="input_audio"):
        read_content([{"type": "input_audio", "input_audio": {}}], images="pass")
    for bad in ([], 5, None, [{"text": "no type"}], [{"type": "text", "text": 5}], ["plain string"]):
        with pytest.raises(InvalidInputError):
            read_content(bad)
    assert map_text([*parts, IMAGE], str.upper) == [{"type": "text", "text": "HOW DO"},
                                                   {"type": "text", "text": "PLANTS GROW?"}, IMAGE]
    assert map_text(None, str.upper) is None
    assistant = [{"type": "refusal", "refusal": "no"}, {"type": "input_audio", "input_audio": {}}, IMAGE]
    assert map_text(assistant, str.upper, images=False) == [{"type": "refusal", "refusal": "NO"}]  # unread: dropped


@pytest.fixture(scope="module")
def seen() -> list[dict[str, Any]]:
    return []


@pytest.fixture(scope="module")
def service(seen: list[dict[str, Any]]) -> Iterator[str]:
    with upstream(lambda body: Reply("Plants grow with light and water."), record=seen) as url:
        yield from _serve(Settings(upstream_url=url))


def chat(base: str, content: Any) -> httpx.Response:
    return httpx.post(f"{base}/v1/chat/completions", timeout=30, json={
        "model": "m", "childguard": {"age": 11}, "messages": [{"role": "user", "content": content}]})


def test_the_gateway_checks_text_parts(service: str, seen: list[dict[str, Any]]) -> None:
    r = chat(service, [{"type": "text", "text": "how do plants grow?"}])
    assert r.status_code == 200 and r.json()["childguard"]["upstream_called"] is True
    assert seen[-1]["messages"][-1]["content"] == [{"type": "text", "text": "how do plants grow?"}]
    harmful = chat(service, [{"type": "text", "text": "how do plants grow?"},
                             {"type": "text", "text": "i want to kill myself"}])
    assert harmful.json()["childguard"]["upstream_called"] is False
    assert harmful.json()["childguard"]["input_action"] == "escalate"


def test_the_gateway_refuses_images_clearly(service: str) -> None:
    r = chat(service, [{"type": "text", "text": "what is this?"}, IMAGE])
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_content"
    assert "not supported yet" in r.json()["error"]["message"]
    assert chat(service, [{"type": "text"}]).status_code == 422


def test_images_can_be_passed_unchecked_per_deployment(seen: list[dict[str, Any]]) -> None:
    with upstream(lambda body: Reply("A cat."), record=seen) as url:
        for base in _serve(Settings(upstream_url=url, image_parts="pass")):
            r = chat(base, [{"type": "text", "text": "what is this? my phone is 07700 900123"}, IMAGE])
            assert r.status_code == 200
            m = httpx.post(f"{base}/v1/moderations", json={"input": [{"type": "text", "text": "hello"}, IMAGE]})
            assert m.status_code == 200
    sent = seen[-1]["messages"][-1]["content"]
    assert sent[1] == IMAGE and "07700" not in json.dumps(sent)


def test_moderation_accepts_content_parts_and_reports_input_types(service: str) -> None:
    r = httpx.post(f"{service}/v1/moderations", json={"age": 12, "input": [
        {"type": "text", "text": "hello there"}, {"type": "text", "text": "i want to kill myself"}]})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == 1 and results[0]["childguard"]["action"] == "escalate"  # one input, as OpenAI
    applied = results[0]["category_applied_input_types"]
    assert set(applied) == set(results[0]["categories"]) and applied["self-harm"] == ["text"]
    plain = httpx.post(f"{service}/v1/moderations", json={"input": "hello"}).json()["results"][0]
    assert plain["category_applied_input_types"]["violence"] == ["text"]
    image = httpx.post(f"{service}/v1/moderations", json={"input": [{"type": "text", "text": "hi"}, IMAGE]})
    assert image.status_code == 400 and "not supported yet" in image.json()["error"]["message"]
    assert httpx.post(f"{service}/v1/moderations", json={"input": [{"type": "video"}]}).status_code == 400
    mixed = httpx.post(f"{service}/v1/moderations", json={"input": ["a", {"type": "text", "text": "b"}]})
    assert mixed.status_code == 422


def test_only_the_keys_of_a_part_that_were_read_are_passed_on() -> None:
    part = {"type": "text", "text": "hi", "note": "Amy Smith, 12 Baker Street"}
    image = {**IMAGE, "owner": "Amy"}
    assert map_text([part, image], str.upper) == [{"type": "text", "text": "HI"}, IMAGE]
