"""Runs a suite against OpenAI-compatible chat endpoints. Async with bounded concurrency, a request
rate limit, retries with exponential backoff and timeouts. Every finished case is appended to
results.jsonl (flushed and fsynced) at once, so an interrupted audit resumes where it stopped with
nothing lost or duplicated."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..chat_client import AsyncChatClient, ChatEndpoint, RetryPolicy, chat_body
from ..errors import InvalidInputError, UpstreamError, UpstreamResponseError, UpstreamStatusError
from ..fields import is_unicode
from ..guard import Guard
from .judges import DEFAULT_JUDGES, Judge, JudgeConfig, JudgeInput, Verdict, build_judges
from .records import AuditRecord, Score
from .scoring import require_scoring_judges, score_case
from .suite import Case


@dataclass(frozen=True)
class Target:
    label: str
    url: str
    model: str
    api_key: str | None = None


@dataclass
class RunConfig:
    concurrency: int = 8
    rate_per_s: float = 50.0
    timeout_s: float = 60.0
    retries: int = 3
    backoff_s: float = 0.5


class RateLimiter:
    """Spaces request starts at least 1/rate apart (shared by all workers)."""

    def __init__(self, rate_per_s: float) -> None:
        self.interval = 1.0 / rate_per_s if rate_per_s > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


class ResultLog:
    """Append-only JSONL of finished cases; tolerant of a half-written last line left by a kill."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.done: set[tuple[str, str]] = set()
        if path.exists():
            raw = path.read_bytes()
            keep = raw[: raw.rfind(b"\n") + 1]  # drop a partial last line
            if len(keep) != len(raw):
                path.write_bytes(keep)
            for line in keep.decode("utf-8").splitlines():
                row = json.loads(line)
                self.done.add((row["target"], row["case_id"]))
        self._fh: IO[str] = path.open("a", encoding="utf-8")
        self._synced = time.monotonic()

    def write(self, record: AuditRecord) -> None:
        # flush: a killed audit loses nothing (the OS holds the bytes); fsync at most once a second
        # guards against a machine crash without paying a disk sync per case
        self._fh.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
        self._fh.flush()
        now = time.monotonic()
        if now - self._synced >= 1.0:
            os.fsync(self._fh.fileno())
            self._synced = now
        self.done.add((record.target, record.case_id))

    def close(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()

    def records(self) -> list[AuditRecord]:
        return [AuditRecord.from_json(json.loads(line))
                for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def _chat(client: AsyncChatClient, target: Target, messages: list[dict[str, str]],
                limiter: RateLimiter) -> tuple[str | None, str | None, int]:
    """(answer, error, attempts)."""
    try:
        done = await client.complete(chat_body(target.model, messages), before_attempt=limiter.wait)
    except UpstreamError as exc:
        return None, _error_text(exc, client.retry), exc.attempts
    if not done.text.strip():  # an empty answer is a failed request, not a refusal and not a pass
        return None, "empty answer", done.attempts
    # JSON may carry lone surrogates ("\ud800"): they become "?" rather than crashing the whole audit, so
    # a broken character cannot hide the rest of a harmful answer
    text = done.text if is_unicode(done.text) else done.text.encode("utf-8", "replace").decode("utf-8")
    return text, None, done.attempts


def _error_text(exc: UpstreamError, retry: RetryPolicy) -> str:
    """The short forms results.jsonl has always carried: reports and scripts group errors by them."""
    cause = exc.__cause__ or exc
    if isinstance(exc, UpstreamStatusError):
        return f"HTTP {exc.status}" if exc.status in retry.retry_status else f"HTTP {exc.status}: {exc.body[:200]}"
    if isinstance(exc, UpstreamResponseError):
        return f"malformed response: {cause}"
    return f"{type(cause).__name__}: {cause}"


class Progress:
    def __init__(self, total: int, stream: IO[str]) -> None:
        self.total, self.done, self.stream, self.start = total, 0, stream, time.monotonic()
        self.tty = stream.isatty()

    def step(self) -> None:
        self.done += 1
        if self.tty or self.done == self.total or self.done % max(1, self.total // 10) == 0:
            rate = self.done / max(1e-9, time.monotonic() - self.start)
            end = "\n" if self.done == self.total or not self.tty else "\r"
            self.stream.write(f"[{self.done}/{self.total}] {rate:.1f} cases/s{end}")
            self.stream.flush()


async def run_cases(cases: list[Case], targets: list[Target], out_dir: Path, cfg: RunConfig,
                    guard: Guard | None = None, llm_judge: Judge | None = None, resume: bool = False,
                    progress_stream: IO[str] | None = None,
                    judges: Sequence[Judge] | None = None) -> list[AuditRecord]:
    """`judges`: the judges to run, in order (default: the detectors and refusal judges, then `llm_judge`
    if given). The run closes them when it ends. Returns every record in results.jsonl, earlier runs'
    included when resuming."""
    results_path = out_dir / "results.jsonl"
    if results_path.exists() and not resume:
        raise InvalidInputError(f"{results_path} exists; pass --resume to continue it or choose another --out")
    guard = guard or Guard()
    if judges is None:
        judges = [*build_judges(list(DEFAULT_JUDGES), JudgeConfig(guard)), *([llm_judge] if llm_judge else [])]
    require_scoring_judges([j.name for j in judges])
    log = ResultLog(results_path)
    guard.warm_up()
    todo = [(t, c) for t in targets for c in cases if (t.label, c.id) not in log.done]
    progress = Progress(len(todo), progress_stream or sys.stderr)
    limiter = RateLimiter(cfg.rate_per_s)
    sem = asyncio.Semaphore(cfg.concurrency)
    retry = RetryPolicy(cfg.retries, cfg.backoff_s)
    clients = {t.label: AsyncChatClient(ChatEndpoint(t.url, t.api_key), cfg.timeout_s, retry,
                                        max_connections=cfg.concurrency * 2, max_keepalive=cfg.concurrency * 2)
               for t in targets}

    async def one(target: Target, case: Case) -> None:
        async with sem:
            history: list[dict[str, str]] = []
            answer, error, attempts, started = None, None, 0, time.monotonic()
            for turn in case.turns:
                history.append({"role": "user", "content": turn})
                answer, error, n = await _chat(clients[target.label], target, history, limiter)
                attempts += n
                if answer is None:
                    break
                history.append({"role": "assistant", "content": answer})
            verdicts: tuple[Verdict, ...] | None = None
            score: Score | None = None
            if answer is not None:
                # every user turn: a split payload or a crescendo asks across turns, and the answer's kind
                # (on topic or deflecting) is read against all of what was asked
                seen = JudgeInput("\n".join(case.turns), answer, case.band, case.lang, case.category)
                verdicts = tuple([await j.verdict(seen) for j in judges])
                score = score_case(case, verdicts, answer)
            log.write(AuditRecord(
                target=target.label, case_id=case.id, base_id=case.base_id, kind=case.kind, category=case.category,
                band=case.band, lang=case.lang, clause=case.clause, persona=case.persona, transform=case.transform,
                request=case.turns[-1][:2000], answer=(answer or "")[:4000], error=error, attempts=attempts,
                latency_s=round(time.monotonic() - started, 3), verdicts=verdicts, score=score))
            progress.step()

    try:
        await asyncio.gather(*(one(t, c) for t, c in todo))
    finally:
        log.close()
        for client in clients.values():
            await client.aclose()
        for judge in judges:
            await judge.aclose()
    return ResultLog(results_path).records()
