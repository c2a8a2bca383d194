"""Aggregated decision counts for the transparency report (3c).

Decisions are counted in memory (a dict increment per decision, so the moderation path stays fast)
and flushed to the store as one upsert per cell. Only counts by day, source, category, action, age
band and language are kept: no text, no ids. Small cells are suppressed when published, so a count of
one cannot point at a child."""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from ..decision import Decision
from ..iso_codes import real_languages
from .journal import CountJournal
from .store import Store, _utc
from .tables import DecisionCount, ReviewCase

Cell = tuple[str, str, str, str, str, str]  # day, source, category, action, age_band, lang


class DecisionCounter:
    """With a `journal`, each count is also appended to it, so a worker killed between flushes loses
    none (the next worker to start replays it); without one, counts since the last flush die with the
    process."""

    def __init__(self, journal: CountJournal | None = None) -> None:
        self._counts: Counter[Cell] = Counter()
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one flush at a time: each deletes the journal files it wrote
        self._journal = journal
        if journal is not None:
            self._counts.update(journal.recover())

    def count(self, decision: Decision, source: str, today: date | None = None) -> None:
        day = (today or datetime.now(UTC).date()).isoformat()
        lang = decision.lang if decision.lang else "und"
        # one cell per decision, under its primary (first flagged) category, so every breakdown sums to
        # the number of decisions
        category = decision.flagged[0] if decision.flagged else "none"
        cell = (day, source, category, decision.action.value, decision.age_band.value, lang)
        with self._lock:
            self._counts[cell] += 1
            if self._journal is not None:
                self._journal.append(cell)

    def pending(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def flush(self, store: Store) -> int:
        """Write and clear the pending counts; on failure they are put back, so nothing is lost."""
        with self._flushing:
            return self._flush(store)

    def _flush(self, store: Store) -> int:
        with self._lock:
            batch, self._counts = self._counts, Counter()
            if batch and self._journal is not None:
                self._journal.rotate()
        if not batch:
            return 0
        try:
            dialect = store.engine.dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            with store.sessions.begin() as s:
                for (day, source, category, action, band, lang), n in batch.items():
                    stmt = insert(DecisionCount).values(day=day, source=source, category=category, action=action,
                                                        age_band=band, lang=lang, count=n)
                    s.execute(stmt.on_conflict_do_update(
                        index_elements=["day", "source", "category", "action", "age_band", "lang"],
                        set_={"count": DecisionCount.count + stmt.excluded.count}))
        except Exception:
            with self._lock:
                self._counts.update(batch)  # its journal files stay until a later flush commits them
            raise
        if self._journal is not None:
            self._journal.committed()
        return sum(batch.values())


def _suppress(counts: dict[str, int], min_count: int) -> dict[str, int | str]:
    return {k: (v if v >= min_count else f"<{min_count}") for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


def transparency(store: Store, days: int = 30, min_count: int = 5, today: date | None = None) -> dict[str, Any]:
    """Everything the public transparency page shows, aggregated over the last `days` days."""
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=days - 1)
    fields = ("day", "source", "category", "action", "age_band", "lang")
    by: dict[str, Counter[str]] = {k: Counter() for k in fields}
    with store.sessions() as s:
        # one row per cell (unique constraint), so no GROUP BY is needed
        rows = s.execute(select(*(getattr(DecisionCount, f) for f in fields), DecisionCount.count)
                         .where(DecisionCount.day >= start.isoformat(), DecisionCount.day <= end.isoformat())).all()
        since = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
        cases = s.execute(select(ReviewCase.created_at, ReviewCase.decided_at, ReviewCase.status,
                                 ReviewCase.resolution, ReviewCase.source)
                          .where(ReviewCase.created_at >= since)).all()
    for *cell, n in rows:
        for field, value in zip(fields, cell, strict=True):
            by[field][value] += int(n)
    total = sum(by["day"].values())
    hours = sorted((_utc(d) - _utc(c)).total_seconds() / 3600 for c, d, *_ in cases if d is not None)
    resolutions: Counter[str] = Counter(r for *_, r, _src in cases if r)
    review = {
        "cases_opened": len(cases),
        "cases_closed": sum(1 for c in cases if c[2] == "closed"),
        "reports_received": sum(1 for c in cases if c[4] == "report"),
        "median_hours_to_decision": round(statistics.median(hours), 2) if hours else None,
        "p90_hours_to_decision": round(hours[min(len(hours) - 1, int(0.9 * len(hours)))], 2) if hours else None,
        "resolutions": _suppress(dict(resolutions), min_count),
    }
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(), "days": days},
        "suppression": f"cells under {min_count} are shown as '<{min_count}' so that no count points at a child",
        "counted": total,
        "by_category": _suppress(dict(by["category"]), min_count),
        "by_action": _suppress(dict(by["action"]), min_count),
        "by_age_band": _suppress(dict(by["age_band"]), min_count),
        "by_language": _suppress(real_languages(dict(by["lang"])), min_count),
        "by_source": _suppress(dict(by["source"]), min_count),
        "by_day": {d: by["day"][d] for d in sorted(by["day"])},
        "review": review,
    }
