"""Rows to decisions: the same `Guard` (and, in conversation mode, the same `ConversationGuard`) as
every other surface, so a scanned log is judged exactly as the live API would have judged it. Each bad
row becomes a `BadRow` with its location; nothing here raises for one row's sake."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from ..conversation import ConversationGuard, MemoryStateStore
from ..conversation.monitor import parse_message
from ..conversation.schema import ConversationDecision, ConversationMessage
from ..decision import Decision
from ..errors import ChildGuardError
from ..guard import Guard
from .config import ScanConfig
from .fields import ROLE_FROM_DEFAULT, age_of, role_of, value
from .inputs import BadRow, Row


def _bad(row: Row, exc: Exception) -> BadRow:
    if isinstance(exc, ChildGuardError):
        return BadRow(row.location, exc.code, str(exc))
    return BadRow(row.location, "internal_error", f"{type(exc).__name__}: {exc}")


def _ident(row: Row, cfg: ScanConfig) -> str:
    value = row.data.get(cfg.id_field)
    return row.location if value is None or value == "" else str(value)


def _opt(row: Row, name: str) -> Any:
    return value(row.data, name)


def base_record(decision: Decision) -> dict[str, Any]:
    scores = decision.scores
    top = decision.flagged[0] if decision.flagged else max(scores, key=lambda c: scores[c])
    return {"message_action": decision.action.value, "flagged": list(decision.flagged), "top_category": top,
            "max_score": float(max(scores.values(), default=0.0)), "scores": dict(scores),
            "band": decision.age_band.value, "lang": decision.lang, "role": decision.role}


def decide_messages(rows: Iterable[Row | BadRow], guard: Guard, cfg: ScanConfig
                    ) -> Iterator[tuple[dict[str, Any], str] | BadRow]:
    """(record, text) per good row; the text goes to excerpts and, with --keep-text, to the output."""
    for row in rows:
        if isinstance(row, BadRow):
            yield row
            continue
        if cfg.text_field not in row.data or row.data[cfg.text_field] is None:
            yield BadRow(row.location, "invalid_input", f"missing required field {cfg.text_field!r}")
            continue
        text = row.data[cfg.text_field]
        try:
            role, role_source = role_of(row.data, cfg)
            decision = guard.check(text, age=age_of(row.data, cfg), lang=_opt(row, cfg.lang_field), role=role,
                                   country=_opt(row, cfg.country_field))
        except Exception as exc:  # one row's failure is reported and counted, never the scan's end
            yield _bad(row, exc)
            continue
        record = {"id": _ident(row, cfg), "source": row.location, "action": decision.action.value,
                  **base_record(decision), "review_required": decision.review_required, "role_source": role_source}
        yield record, text


def bucket_of(conversation: str, buckets: int) -> int:
    """Stable across processes and runs (unlike hash()), so a resumed scan routes rows the same way."""
    return zlib.crc32(conversation.encode("utf-8", "surrogatepass")) % buckets


def conversation_message(row: Row, cfg: ScanConfig) -> ConversationMessage | BadRow:
    assert cfg.conversation_field is not None
    conv = row.data.get(cfg.conversation_field)
    if conv is None or conv == "":
        return BadRow(row.location, "invalid_input", f"missing conversation id field {cfg.conversation_field!r}")
    if cfg.text_field not in row.data or row.data[cfg.text_field] is None:
        return BadRow(row.location, "invalid_input", f"missing required field {cfg.text_field!r}")
    role, _ = role_of(row.data, cfg)
    raw = {"conversation": str(conv), "sender": _opt(row, cfg.sender_field),
           "role": role, "text": row.data[cfg.text_field],
           "time": _opt(row, cfg.time_field), "age": age_of(row.data, cfg), "lang": _opt(row, cfg.lang_field),
           "country": _opt(row, cfg.country_field)}
    if raw["sender"] is not None and not isinstance(raw["sender"], str):
        raw["sender"] = str(raw["sender"])
    try:
        return parse_message(raw)
    except Exception as exc:
        return _bad(row, exc)


def partition_rows(rows: Iterable[Row | BadRow], cfg: ScanConfig, buckets: int
                   ) -> Iterator[tuple[int, dict[str, Any]] | BadRow]:
    """(bucket, message row) per valid message: the map side of the shuffle by conversation."""
    for row in rows:
        if isinstance(row, BadRow):
            yield row
            continue
        msg = conversation_message(row, cfg)
        if isinstance(msg, BadRow):
            yield msg
            continue
        yield bucket_of(msg.conversation, buckets), {
            "conversation": msg.conversation, "ts": msg.time.timestamp() if msg.time else None, "seq": row.seq,
            "id": _ident(row, cfg), "source": row.location, "message": msg.model_dump_json(),
            "role_source": role_of(row.data, cfg)[1]}


def _order(item: dict[str, Any]) -> tuple[str, float, int]:
    ts = item["ts"]
    return item["conversation"], float("inf") if ts is None else float(ts), int(item["seq"])


def decide_conversations(messages: list[dict[str, Any]], guard: Guard, cfg: ScanConfig
                         ) -> Iterator[tuple[dict[str, Any], str] | BadRow]:
    """Whole conversations, each in time order (rows without a time keep their input order, after the
    timed ones), through a fresh conversation state, forgotten when the conversation ends."""
    settings = guard.settings
    cg = ConversationGuard(guard=guard, store=MemoryStateStore(16, settings.conversation_ttl_s), settings=settings)
    current: str | None = None
    for item in sorted(messages, key=_order):
        if item["conversation"] != current:
            if current is not None:
                cg.forget(current)
            current = item["conversation"]
        msg = ConversationMessage.model_validate_json(item["message"])
        try:
            d = cg.observe(msg)
        except Exception as exc:
            yield _bad(Row(item["source"], int(item["seq"]), {}), exc)
            continue
        yield conversation_record(item, msg, d), msg.text
    if current is not None:
        cg.forget(current)


def conversation_record(item: dict[str, Any], msg: ConversationMessage, d: ConversationDecision) -> dict[str, Any]:
    md = d.message_decision
    return {"id": item["id"], "source": item["source"], "action": d.action.value, **base_record(md),
            "review_required": d.review_required, "conversation": d.conversation, "sender": msg.sender,
            "turn": d.turn, "time": msg.time.isoformat() if msg.time else None,
            "findings": [{"kind": f.kind, "action": f.action.value, "risk": float(f.risk),
                          "since_turn": f.since_turn} for f in d.findings],
            "escalations": d.escalations, "role_source": item.get("role_source") or ROLE_FROM_DEFAULT}
