"""What a conversation remembers between messages: counters, stages and times, never raw text (5b).

Stores are bounded in number of conversations and in time: the in-memory store evicts the least
recently used conversation and anything idle past its TTL; the Redis store sets a TTL on every key,
so several service workers share the state and nothing outlives the window."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

MAX_EVENTS = 100


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
        raw: dict[str, Any] = json.loads(text)
        raw["hostility"] = [HostileEvent(**e) for e in raw.get("hostility", [])]
        return cls(**raw)


class StateStore(Protocol):
    def load(self, conversation: str) -> ConversationState | None: ...

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
            item = self._data.get(conversation)
            if item is None:
                return None
            stored_at, payload = item
            if time.monotonic() - stored_at > self.ttl_s:
                del self._data[conversation]
                return None
            self._data.move_to_end(conversation)
            return ConversationState.from_json(payload)

    def save(self, conversation: str, state: ConversationState) -> None:
        with self._lock:
            self._data[conversation] = (time.monotonic(), state.to_json())
            self._data.move_to_end(conversation)
            while len(self._data) > self.max_conversations:
                self._data.popitem(last=False)

    def delete(self, conversation: str) -> None:
        with self._lock:
            self._data.pop(conversation, None)


class RedisStateStore:
    """Shared state for several workers (`redis://127.0.0.1:6379/0`); every key expires after `ttl_s`."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", ttl_s: int = 14 * 86400,
                 prefix: str = "childguard:conv:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2.0)
        self.ttl_s = ttl_s
        self.prefix = prefix

    def load(self, conversation: str) -> ConversationState | None:
        payload = self._redis.get(self.prefix + conversation)
        return None if payload is None else ConversationState.from_json(payload)

    def save(self, conversation: str, state: ConversationState) -> None:
        self._redis.set(self.prefix + conversation, state.to_json(), ex=self.ttl_s)

    def delete(self, conversation: str) -> None:
        self._redis.delete(self.prefix + conversation)

    def ttl(self, conversation: str) -> int:
        return int(self._redis.ttl(self.prefix + conversation))
