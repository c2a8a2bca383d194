"""The OpenAI-compatible chat client against real loopback servers and a TCP fault proxy: every way an
endpoint can fail arrives as one typed error, and only the failures worth another try are retried."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from childguard.chat_client import (
    AsyncChatClient,
    ChatClient,
    ChatEndpoint,
    Completion,
    RetryPolicy,
    chat_body,
)
from childguard.errors import (
    ChildGuardError,
    UpstreamError,
    UpstreamResponseError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from childguard.testing import TcpProxy, chat_server

ASK = [{"role": "user", "content": "tell me a story"}]
BROKEN = [{"role": "user", "content": "a broken request"}]  # the test servers answer HTTP 500 to this


@pytest.fixture(scope="module")
def unsafe() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    with chat_server("unsafe", record=seen) as url:
        yield url, seen


@pytest.fixture()
def proxied(unsafe: tuple[str, list[dict[str, Any]]]) -> Iterator[tuple[str, TcpProxy]]:
    port = urlsplit(unsafe[0]).port
    assert port is not None
    with TcpProxy("127.0.0.1", port) as proxy:
        yield f"http://127.0.0.1:{proxy.port}/v1", proxy


def _async(url: str, timeout_s: float = 5.0, retry: RetryPolicy | None = None) -> AsyncChatClient:
    return AsyncChatClient(ChatEndpoint(url), timeout_s, retry or RetryPolicy())


async def _complete(client: AsyncChatClient, messages: list[dict[str, str]], **kw: Any) -> Completion:
    try:
        return await client.complete(chat_body("m", messages), **kw)
    finally:
        await client.aclose()


def test_endpoint_builds_the_url_and_bearer_auth() -> None:
    assert ChatEndpoint("http://h:1/v1/").url == "http://h:1/v1/chat/completions"
    assert ChatEndpoint("http://h:1/v1", "sk-1").headers == {"Authorization": "Bearer sk-1"}
    assert ChatEndpoint("http://h:1/v1").headers == {}


def test_sync_and_async_read_the_answer(unsafe: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = unsafe
    client = ChatClient(ChatEndpoint(url, "k"), 5)
    text = client.complete(chat_body("guard-model", ASK)).text
    client.close()
    assert text.startswith("Sure!") and seen[-1]["model"] == "guard-model" and seen[-1]["temperature"] == 0
    done = asyncio.run(_complete(_async(url), ASK))
    assert done == Completion(text, 1)


def test_streaming_yields_the_answer_piece_by_piece(unsafe: tuple[str, list[dict[str, Any]]]) -> None:
    async def run() -> list[str]:
        client = _async(unsafe[0])
        try:
            async with client.stream(chat_body("m", ASK)) as deltas:
                return [d async for d in deltas]
        finally:
            await client.aclose()

    pieces = asyncio.run(run())
    assert len(pieces) > 3 and "".join(pieces).startswith("Sure!")
    assert unsafe[1][-1]["stream"] is True


def test_error_status_is_typed_with_the_status(unsafe: tuple[str, list[dict[str, Any]]]) -> None:
    with pytest.raises(UpstreamStatusError) as caught:
        ChatClient(ChatEndpoint(unsafe[0]), 5).complete(chat_body("m", BROKEN))
    err = caught.value
    assert err.status == 500 and err.url.endswith("/chat/completions") and "HTTP 500" in str(err)
    assert isinstance(err, UpstreamError) and isinstance(err, ChildGuardError) and err.http_status == 502

    async def stream() -> None:
        client = _async(unsafe[0])
        try:
            async with client.stream(chat_body("m", BROKEN)):
                pass
        finally:
            await client.aclose()

    with pytest.raises(UpstreamStatusError, match="HTTP 500"):
        asyncio.run(stream())


def test_malformed_answers_are_typed() -> None:
    with chat_server("garbled") as url:
        with pytest.raises(UpstreamResponseError, match="OpenAI chat completion"):
            ChatClient(ChatEndpoint(url), 5).complete(chat_body("m", ASK))
        with pytest.raises(UpstreamResponseError):
            asyncio.run(_complete(_async(url, retry=RetryPolicy(3, 0.01)), ASK))  # not retried

        async def stream() -> None:
            client = _async(url)
            try:
                async with client.stream(chat_body("m", ASK)) as deltas:
                    async for _ in deltas:
                        pass
            finally:
                await client.aclose()

        with pytest.raises(UpstreamResponseError):
            asyncio.run(stream())


def test_a_stalled_server_is_a_timeout(proxied: tuple[str, TcpProxy]) -> None:
    url, proxy = proxied
    proxy.stall()
    started = time.monotonic()
    with pytest.raises(UpstreamTimeoutError, match=r"within 0\.3 s") as caught:
        ChatClient(ChatEndpoint(url), 0.3).complete(chat_body("m", ASK))
    assert caught.value.http_status == 504 and time.monotonic() - started < 5
    with pytest.raises(UpstreamTimeoutError) as again:
        asyncio.run(_complete(_async(url, 0.3, RetryPolicy(1, 0.01)), ASK))
    assert again.value.attempts == 2  # a timeout is worth another try
    proxy.resume()


def test_an_unreachable_server_is_retried_then_typed(proxied: tuple[str, TcpProxy]) -> None:
    url, proxy = proxied
    proxy.stop()
    with pytest.raises(UpstreamUnreachableError, match="check the URL"):
        ChatClient(ChatEndpoint(url), 2).complete(chat_body("m", ASK))
    calls: list[float] = []

    async def before() -> None:
        calls.append(time.monotonic())

    with pytest.raises(UpstreamUnreachableError) as caught:
        asyncio.run(_complete(_async(url, 2, RetryPolicy(2, 0.05)), ASK, before_attempt=before))
    assert caught.value.attempts == 3 and len(calls) == 3
    assert calls[2] - calls[1] >= calls[1] - calls[0] >= 0.05  # exponential backoff


def test_retry_recovers_from_503_and_only_retries_retryable_statuses(
        unsafe: tuple[str, list[dict[str, Any]]]) -> None:
    with chat_server("flaky") as url:
        done = asyncio.run(_complete(_async(url, retry=RetryPolicy(3, 0.01)), ASK))
        assert done.attempts == 2 and done.text
        with pytest.raises(UpstreamStatusError) as first:  # no retry policy: the first 503 is final
            asyncio.run(_complete(_async(url), [{"role": "user", "content": "another question"}]))
        assert first.value.status == 503 and first.value.attempts == 1
    with pytest.raises(UpstreamStatusError) as retried:
        asyncio.run(_complete(_async(unsafe[0], retry=RetryPolicy(2, 0.01)), BROKEN))
    assert retried.value.attempts == 3
    final = RetryPolicy(2, 0.01, retry_status=frozenset({503}))
    with pytest.raises(UpstreamStatusError) as once:
        asyncio.run(_complete(_async(unsafe[0], retry=final), BROKEN))
    assert once.value.attempts == 1
