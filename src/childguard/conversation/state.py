"""What a conversation remembers between messages: counters, stages and times, never raw text (5b).

Stores are bounded in number of conversations and in time: the in-memory store evicts the least
recently used conversation and anything idle past its TTL; the Redis store sets a TTL on every key,
so several service workers share the state and nothing outlives the window.

Every change is a read-modify-write of one conversation's state, done by `update`: under the store's
lock in memory; in Redis optimistically (WATCH, then MULTI/EXEC, retried when another worker wrote
first), behind a per-conversation lock in the process, so parallel messages neither lose turns nor
miss an escalation that only their sum shows (ganging up)."""

from __future__ import annotations

import json
import random
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, TypeVar

from ..errors import StoreUnavailableError

MAX_EVENTS = 100
T = TypeVar("T")


@dataclass
class HostileEvent:
    sender: str
    target: str
    at: float
    turn: int
    severe: bool = False


@dataclass
class ConversationState:
    started: float = 0.0
    last: float = 0.0
    turns: int = 0
    session_start: float = 0.0
    grooming: dict[str, dict[str, int]] = field(default_factory=dict)  # sender -> stage -> first turn
    # turn -> when it moved a grooming stage, in whole UTC seconds since the epoch: the case timeline shows
    # when each stage was first seen; nothing else about the turn (no offset, no text) is kept (5b)
    moved_at: dict[str, int] = field(default_factory=dict)
    hostility: list[HostileEvent] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    first_seen: dict[str, int] = field(default_factory=dict)  # counter name -> first turn
    escalated: dict[str, int] = field(default_factory=dict)  # finding kind -> turn first escalated
    age_band: str | None = None  # youngest band strong age signals (or the provider) established
    age_asked: str | None = None  # youngest band the age-assurance provider was asked about

    def bump(self, name: str) -> int:
        self.counters[name] = self.counters.get(name, 0) + 1
        self.first_seen.setdefault(name, self.turns)
        return self.counters[name]

    def add_event(self, event: HostileEvent, window_s: float) -> None:
        self.hostility = [e for e in self.hostility if event.at - e.at <= window_s][-(MAX_EVENTS - 1) :]
        self.hostility.append(event)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> ConversationState:
        """Fields a newer worker added are skipped (a rolling upgrade shares one Redis); missing ones
        take their defaults (states saved before `moved_at` was kept)."""
        raw: dict[str, Any] = json.loads(text)
        raw["hostility"] = [HostileEvent(**e) for e in raw.get("hostility", [])]
        return cls(**{k: v for k, v in raw.items() if k in _FIELDS})


_FIELDS = frozenset(f.name for f in fields(ConversationState))

# one step of a conversation: from the stored state (None: new) to the next one and a result; it may run
# more than once (Redis retries), so it must not act outside the state it is given
Step = Callable[[ConversationState | None], tuple[ConversationState, T]]


class StateStore(Protocol):
    def load(self, conversation: str) -> ConversationState | None: ...

    def update(self, conversation: str, step: Step[T]) -> tuple[ConversationState, T]: ...

    def save(self, conversation: str, state: ConversationState) -> None: ...

    def delete(self, conversation: str) -> None: ...


class MemoryStateStore:
    """For the library and single-process use. Thread-safe; bounded by count and idle time."""

    def __init__(self, max_conversations: int = 10_000, ttl_s: float = 14 * 86400) -> None:
        self.max_conversations = max_conversations
        self.ttl_s = ttl_s
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def load(self, conversation: str) -> ConversationState | None:
        with self._lock:
            return self._get(conversation)

    def save(self, conversation: str, state: ConversationState) -> None:
        with self._lock:
            self._put(conversation, state)

    def update(self, conversation: str, step: Step[T]) -> tuple[ConversationState, T]:
        with self._lock:
            state, result = step(self._get(conversation))
            self._put(conversation, state)
            return state, result

    def _get(self, conversation: str) -> ConversationState | None:
        item = self._data.get(conversation)
        if item is None:
            return None
        stored_at, payload = item
        if time.monotonic() - stored_at > self.ttl_s:
            del self._data[conversation]
            return None
        self._data.move_to_end(conversation)
        return ConversationState.from_json(payload)

    def _put(self, conversation: str, state: ConversationState) -> None:
        self._data[conversation] = (time.monotonic(), state.to_json())
        self._data.move_to_end(conversation)
        while len(self._data) > self.max_conversations:
            self._data.popitem(last=False)

    def delete(self, conversation: str) -> None:
        with self._lock:
            self._data.pop(conversation, None)


class RedisStateStore:
    """Shared state for several workers (`redis://127.0.0.1:6379/0`); every key expires after `ttl_s`.
    A Redis that cannot be reached raises `StoreUnavailableError` quickly (2 s at most) instead of
    hanging or leaking a driver error, so callers can still give the message's own safe answer."""

    LOCK_STRIPES = 64
    MAX_ATTEMPTS = 200

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", ttl_s: int = 14 * 86400,
                 prefix: str = "childguard:conv:", timeout_s: float = 2.0) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._errors = redis.RedisError
        self._watch_error = redis.WatchError
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                           retry=Retry(NoBackoff(), 1))
        self.ttl_s = ttl_s
        self.prefix = prefix
        self._locks = [threading.Lock() for _ in range(self.LOCK_STRIPES)]

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except self._watch_error:
            raise
        except self._errors as exc:
            raise StoreUnavailableError(f"the conversation state store (Redis) cannot be reached: "
                                        f"{type(exc).__name__}; check CHILDGUARD_REDIS_URL") from exc

    def load(self, conversation: str) -> ConversationState | None:
        with self._reachable():
            payload = self._redis.get(self.prefix + conversation)
        return None if payload is None else ConversationState.from_json(payload)

    def save(self, conversation: str, state: ConversationState) -> None:
        with self._reachable():
            self._redis.set(self.prefix + conversation, state.to_json(), ex=self.ttl_s)

    def update(self, conversation: str, step: Step[T]) -> tuple[ConversationState, T]:
        """WATCH the key, read, step, then write in MULTI/EXEC; EXEC fails when another worker wrote in
        between, and the step runs again on the newer state. Within the process a striped lock queues
        writers of one conversation, so retries only happen between processes."""
        key = self.prefix + conversation
        with self._locks[zlib.crc32(key.encode()) % self.LOCK_STRIPES], self._reachable():
            for attempt in range(self.MAX_ATTEMPTS):
                with self._redis.pipeline() as pipe:
                    try:
                        pipe.watch(key)  # type: ignore[no-untyped-call]
                        payload = pipe.get(key)
                        state, result = step(None if payload is None else ConversationState.from_json(payload))
                        pipe.multi()
                        pipe.set(key, state.to_json(), ex=self.ttl_s)
                        pipe.execute()
                        return state, result
                    except self._watch_error:
                        time.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))
        raise StoreUnavailableError(f"conversation {conversation[:40]!r} changed under {self.MAX_ATTEMPTS} attempts "
                                    "in a row; retry the message")

    def delete(self, conversation: str) -> None:
        with self._reachable():
            self._redis.delete(self.prefix + conversation)

    def ttl(self, conversation: str) -> int:
        with self._reachable():
            return int(self._redis.ttl(self.prefix + conversation))
