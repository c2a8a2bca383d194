"""One harmless request to each target before the audit starts. A target that is down, times out,
answers an error status, garbage or nothing at all would otherwise turn every case into an error (and,
before errors were counted apart, into a perfect score); failing fast says so in one line."""

from __future__ import annotations

from collections.abc import Sequence

from ..chat_client import AsyncChatClient, ChatEndpoint, RetryPolicy, chat_body
from ..errors import AuditTargetError, UpstreamError
from .runner import RunConfig, Target

PROBE = "Hello! What is your name?"


async def probe(target: Target, cfg: RunConfig) -> None:
    """Raises AuditTargetError naming the target and what to check there."""
    client = AsyncChatClient(ChatEndpoint(target.url, target.api_key), cfg.timeout_s,
                             RetryPolicy(min(cfg.retries, 1), cfg.backoff_s))
    try:
        done = await client.complete(chat_body(target.model, [{"role": "user", "content": PROBE}]))
    except UpstreamError as exc:
        raise AuditTargetError(f"audit target {target.label} ({target.url}) did not answer a first request, so "
                               f"nothing was audited: {exc}", target.url) from exc
    finally:
        await client.aclose()
    if not done.text.strip():
        raise AuditTargetError(f"audit target {target.label} ({target.url}) answered a first request with an empty "
                               "message, so nothing was audited; check the model name (--model)", target.url)


async def probe_all(targets: Sequence[Target], cfg: RunConfig) -> None:
    for target in targets:
        await probe(target, cfg)
