"""The one client for OpenAI-compatible chat-completion endpoints: the gateway's upstream model, the
LLM-guard detector, the audit's targets and its LLM judge all speak the same small protocol, so URL
building, auth, timeouts, retries, response parsing and the errors they raise live here once instead
of four times with four different ideas of what counts as a failure.

Every failure is an `UpstreamError` subclass (timeout, unreachable, HTTP status, malformed answer);
callers decide what a failure means for them (a detector degrades, the audit records it, the gateway
answers 502). Each client keeps one connection pool for its lifetime: opening one loads the CA bundle
(~30 ms) and a kept-alive connection saves a handshake per request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import (
    UpstreamError,
    UpstreamResponseError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)

# statuses that say "try again" (overload, rate limit, a proxy in between); any other error status is final
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class ChatEndpoint:
    """`base_url` as OpenAI clients take it (e.g. http://127.0.0.1:8080/v1); the model goes in each body,
    because the gateway forwards the model its client asked for."""

    base_url: str
    api_key: str | None = None

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    @property
    def shown(self) -> str:
        """The base URL for the operator's eyes (start-up banner): without credentials or query."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`retries` more attempts after the first, on timeouts, broken connections and `retry_status`,
    waiting `backoff_s`, then twice that, and so on. A malformed answer or another status is final:
    asking again would get the same answer."""

    retries: int = 0
    backoff_s: float = 0.5
    retry_status: frozenset[int] = RETRY_STATUS

    def retries_on(self, error: UpstreamError) -> bool:
        if isinstance(error, UpstreamStatusError):
            return error.status in self.retry_status
        return isinstance(error, UpstreamTimeoutError | UpstreamUnreachableError)

    def delay_s(self, attempt: int) -> float:
        return self.backoff_s * 2.0 ** (attempt - 1)


NO_RETRY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class Completion:
    """`tool_calls`: the functions the model asks the client to run (OpenAI format), if any."""

    text: str
    attempts: int = 1
    tool_calls: tuple[dict[str, Any], ...] = ()


def chat_body(model: str, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The request the detector, the audit and its judge send: temperature 0, so a re-run asks the same."""
    return {"model": model, "messages": list(messages), "temperature": 0}


# -- turning httpx's outcomes into childguard's errors ----------------------------------------------------

def _request_error(exc: httpx.HTTPError, url: str, timeout_s: float) -> UpstreamError:
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeoutError(f"{url} gave no answer within {timeout_s:g} s ({type(exc).__name__}); the "
                                    "model may be overloaded: retry later or raise the timeout", url)
    if isinstance(exc, httpx.TransportError):
        return UpstreamUnreachableError(f"could not reach {url} ({type(exc).__name__}: {exc}); check the URL "
                                        "and that the server is running", url)
    return UpstreamResponseError(f"{url} sent an answer that could not be read ({type(exc).__name__}: {exc})",
                                 url)


def _status_hint(status: int) -> str:
    if status in (401, 403):
        return "check the API key"
    if status == 404:
        return "check the base URL (it usually ends in /v1) and the model name"
    if status in RETRY_STATUS:
        return "the server is overloaded or failing: retry later"
    return "check what the server's log says about the request"


def _check_status(response: httpx.Response, url: str, body: str) -> None:
    try:
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        status = response.status_code
        said = f": {body[:200]}" if body else ""
        raise UpstreamStatusError(f"{url} answered HTTP {status}{said}; {_status_hint(status)}", url, status,
                                  body) from exc


def _malformed(url: str, exc: Exception) -> UpstreamResponseError:
    return UpstreamResponseError(f"{url} did not answer as an OpenAI chat completion ({type(exc).__name__}: "
                                 f"{exc}); check that it is an OpenAI-compatible base URL", url)


def _tool_call_list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        raise TypeError("tool_calls is not a list of objects")
    return value


def completion_message(response: httpx.Response, url: str) -> tuple[str, tuple[dict[str, Any], ...]]:
    """(`choices[0].message.content`, its `tool_calls`) of a finished response; a null content is an
    empty answer (a message that only calls tools has none)."""
    _check_status(response, url, response.text[:1000])
    try:
        message = response.json()["choices"][0]["message"]
        calls = _tool_call_list(message.get("tool_calls"))
        content = message.get("content") if calls else message["content"]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise _malformed(url, exc) from exc
    return str(content or ""), tuple(calls)


def completion_text(response: httpx.Response, url: str) -> str:
    return completion_message(response, url)[0]


def stream_event(line: str, url: str) -> tuple[str, list[dict[str, Any]]] | None:
    """What one server-sent-events line adds: its text (`choices[0].delta.content`) and its tool-call
    fragments; None for lines that are not data (comments, keep-alives) and for `data: [DONE]`."""
    if not line.startswith("data:") or line.strip() == "data: [DONE]":
        return None
    try:
        delta = json.loads(line[5:])["choices"][0].get("delta", {})
        return str(delta.get("content") or ""), _tool_call_list(delta.get("tool_calls"))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise _malformed(url, exc) from exc


def stream_delta(line: str, url: str) -> str | None:
    event = stream_event(line, url)
    return None if event is None else event[0]


class ToolCallParts:
    """A streamed tool call arrives in fragments by `index` (id and name first, then the arguments a few
    characters at a time); this puts them together."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, Any]] = {}

    def add(self, fragments: list[dict[str, Any]]) -> None:
        for f in fragments:
            index = f.get("index", len(self._calls))
            call = self._calls.setdefault(index if isinstance(index, int) else len(self._calls),
                                          {"type": "function", "function": {"name": "", "arguments": ""}})
            if isinstance(f.get("id"), str):
                call["id"] = f["id"]
            if isinstance(f.get("type"), str):
                call["type"] = f["type"]
            fn = f.get("function")
            if isinstance(fn, dict):
                for key in ("name", "arguments"):
                    if isinstance(fn.get(key), str):
                        call["function"][key] += fn[key]

    def calls(self) -> tuple[dict[str, Any], ...]:
        return tuple(self._calls[i] for i in sorted(self._calls))


class ChatStream:
    """The text of a streamed answer, piece by piece (`async for text in stream`); once it is read,
    `tool_calls` holds the functions the model asked for."""

    def __init__(self, events: AsyncGenerator[tuple[str, list[dict[str, Any]]], None]) -> None:
        self._events = events
        self._parts = ToolCallParts()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._texts()

    async def _texts(self) -> AsyncGenerator[str, None]:
        async for text, fragments in self._events:
            if fragments:
                self._parts.add(fragments)
            if text:
                yield text

    @property
    def tool_calls(self) -> tuple[dict[str, Any], ...]:
        return self._parts.calls()

    async def aclose(self) -> None:
        await self._events.aclose()


# -- the clients -----------------------------------------------------------------------------------------

class ChatClient:
    """Blocking, for the LLM-guard detector: it runs inside `Guard.check`, on worker threads with no event
    loop. It never retries: a child's message waits for it, and the guard degrades without it."""

    def __init__(self, endpoint: ChatEndpoint, timeout_s: float) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._http = httpx.Client(timeout=timeout_s)  # shareable between threads

    def complete(self, body: Mapping[str, Any]) -> Completion:
        try:
            response = self._http.post(self.endpoint.url, json=body, headers=self.endpoint.headers)
        except httpx.HTTPError as exc:
            raise _request_error(exc, self.endpoint.url, self.timeout_s) from exc
        return Completion(completion_text(response, self.endpoint.url))

    def close(self) -> None:
        self._http.close()


class AsyncChatClient:
    """For the event loop: the gateway (plain and streaming), the audit runner and its LLM judge. Use it
    from one event loop only, and `aclose()` it when done."""

    def __init__(self, endpoint: ChatEndpoint, timeout_s: float, retry: RetryPolicy = NO_RETRY,
                 max_connections: int = 100, max_keepalive: int = 20, first_byte_s: float | None = None) -> None:
        """`timeout_s` bounds a whole answer (streamed or not, a request that waits for a free connection
        included); `first_byte_s` (default: the same) bounds the wait for a connection and, when
        streaming, for the answer to start and every pause in it, so a model that hangs is given up on
        early (issue 18 item 4). A plain answer only comes when the model is done: there the total applies."""
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.first_byte_s = min(first_byte_s or timeout_s, timeout_s)
        self.retry = retry
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.first_byte_s), limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_keepalive))

    def _timeout(self, waited_s: float) -> UpstreamTimeoutError:
        return UpstreamTimeoutError(f"{self.endpoint.url} gave no complete answer within {waited_s:g} s; the model "
                                    "may be overloaded: retry later or raise the timeout", self.endpoint.url)

    async def complete(self, body: Mapping[str, Any],
                       before_attempt: Callable[[], Awaitable[None]] | None = None) -> Completion:
        """`before_attempt` runs before every request, retries included (the audit's rate limiter). A
        raised error's `attempts` says how many requests were spent."""
        attempt = 0
        while True:
            attempt += 1
            if before_attempt is not None:
                await before_attempt()
            try:
                text, calls = await self._once(body)
                return Completion(text, attempt, calls)
            except UpstreamError as exc:
                exc.attempts = attempt
                if attempt > self.retry.retries or not self.retry.retries_on(exc):
                    raise
            await asyncio.sleep(self.retry.delay_s(attempt))

    async def _once(self, body: Mapping[str, Any]) -> tuple[str, tuple[dict[str, Any], ...]]:
        try:
            # a plain answer arrives whole, after the model is done: only the wait for a connection is short
            whole = httpx.Timeout(self.timeout_s, connect=self.first_byte_s, pool=self.first_byte_s)
            response = await asyncio.wait_for(
                self._http.post(self.endpoint.url, json=body, headers=self.endpoint.headers, timeout=whole),
                self.timeout_s)
        except TimeoutError as exc:
            raise self._timeout(self.timeout_s) from exc
        except httpx.HTTPError as exc:
            raise _request_error(exc, self.endpoint.url, self.first_byte_s) from exc
        return completion_message(response, self.endpoint.url)

    @asynccontextmanager
    async def stream(self, body: Mapping[str, Any]) -> AsyncIterator[ChatStream]:
        """`async with client.stream(body) as deltas: async for text in deltas: ...`: the answer's text
        piece by piece. Leaving the block closes the upstream response, so a caller that stops reading
        (the gateway cutting off harm) does not keep the model generating. Never retried: part of the
        answer may already be on its way to the child."""
        url = self.endpoint.url
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        request = self._http.build_request("POST", url, json={**body, "stream": True}, headers=self.endpoint.headers)
        try:
            response = await asyncio.wait_for(self._http.send(request, stream=True), self.timeout_s)
        except TimeoutError as exc:
            raise self._timeout(self.timeout_s) from exc
        except httpx.HTTPError as exc:
            raise _request_error(exc, url, self.first_byte_s) from exc
        deltas = ChatStream(self._deltas(response, deadline))
        try:
            _check_status(response, url, "")  # an error body could stream for ever; the status says enough
            yield deltas
        finally:
            await deltas.aclose()
            await response.aclose()

    async def _deltas(self, response: httpx.Response,
                      deadline: float) -> AsyncGenerator[tuple[str, list[dict[str, Any]]], None]:
        """Each line within the pause limit (httpx's read timeout) and all of them before `deadline`."""
        url = self.endpoint.url
        lines = response.aiter_lines()
        loop = asyncio.get_running_loop()
        while True:
            try:
                line = await asyncio.wait_for(anext(lines), max(0.0, deadline - loop.time()))
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise self._timeout(self.timeout_s) from exc
            except httpx.HTTPError as exc:
                raise _request_error(exc, url, self.first_byte_s) from exc
            event = stream_event(line, url)
            if event is not None:
                yield event

    async def aclose(self) -> None:
        await self._http.aclose()
