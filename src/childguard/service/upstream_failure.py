"""What a failed call to the chat model tells whom (issue 20): the child gets a kind "try again later"
in their own language, never "(upstream error ConnectError)"; the client gets what went wrong in
general words, never the internal URL of the model (that, and the details, go to the operator's log)."""

from __future__ import annotations

from ..errors import (
    UpstreamBusyError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from ..messages import choose_nudge

FALLBACK = "Sorry, I can't answer right now. Please try again in a little while."


def child_message(lang: str | None) -> str:
    return choose_nudge("upstream.unavailable", lang or "en") or FALLBACK


def operator_message(exc: UpstreamError) -> str:
    cause = type(exc.__cause__ or exc).__name__
    if isinstance(exc, UpstreamBusyError):
        return str(exc)
    if isinstance(exc, UpstreamTimeoutError):
        what = "did not answer in time"
    elif isinstance(exc, UpstreamUnreachableError):
        what = "could not be reached"
    elif isinstance(exc, UpstreamStatusError):
        what = f"answered HTTP {exc.status}"
    else:
        what = "sent an answer that is not an OpenAI chat completion"
    return (f"the chat model {what} ({cause}); the child was told to try again later. The gateway's log names "
            "the upstream and the details")
