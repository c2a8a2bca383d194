"""Typed errors. Each says what the caller should do, because a moderation pipeline that crashes
on odd input protects nobody; callers catch `ChildGuardError` and map `exit_code` / `http_status`."""

from __future__ import annotations


class ChildGuardError(Exception):
    """Base of every error childguard raises on purpose."""

    exit_code: int = 1
    http_status: int = 500
    code: str = "internal_error"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


class InvalidInputError(ChildGuardError, ValueError):
    """The request itself is malformed (wrong type, out-of-range value)."""

    exit_code = 2
    http_status = 422
    code = "invalid_input"


class InvalidTextError(InvalidInputError):
    """The text cannot be read as Unicode (invalid UTF-8, not a string)."""

    exit_code = 3
    code = "invalid_text"


class TextTooLongError(InvalidInputError):
    """The text exceeds `max_text_chars`; split it or raise the limit in settings."""

    exit_code = 3
    http_status = 413
    code = "text_too_long"


class InvalidAgeError(InvalidInputError):
    code = "invalid_age"


class InvalidLanguageError(InvalidInputError):
    code = "invalid_language"


class InvalidCountryError(InvalidInputError):
    code = "invalid_country"


class InvalidRoleError(InvalidInputError):
    code = "invalid_role"


class ConfigError(ChildGuardError):
    """A policy, taxonomy or settings file is wrong; the message names the file and the key."""

    exit_code = 4
    code = "config_error"


class ScanStartError(ConfigError):
    """`childguard scan` could not start a local Ray or join the one at --ray-address; nothing was
    scanned. Check the address, or retry with fewer --workers on a busy machine."""

    code = "scan_start_error"


class ModelError(ChildGuardError):
    """The embedded model is missing or corrupt; reinstall the package or run `make train`."""

    exit_code = 5
    code = "model_error"


class DetectorError(ChildGuardError):
    """A detector failed at run time (e.g. an LLM guard endpoint is down)."""

    exit_code = 6
    http_status = 502
    code = "detector_error"


class NotFoundError(InvalidInputError):
    """The case, report or record asked for does not exist (or is no longer kept)."""

    http_status = 404
    code = "not_found"


class AuthError(ChildGuardError):
    """Wrong or missing credentials. Deliberately vague: it never says whether the user exists."""

    exit_code = 2
    http_status = 401
    code = "unauthorized"


class ForbiddenError(ChildGuardError):
    """Signed in, but the role does not allow this (e.g. a moderator asking for the admin audit log)."""

    exit_code = 2
    http_status = 403
    code = "forbidden"


class ConsentRequiredError(ChildGuardError):
    """The service requires parental consent for this child profile and none is on record: record it with
    POST /v1/consents (or turn off CHILDGUARD_REQUIRE_CONSENT)."""

    exit_code = 2
    http_status = 403
    code = "consent_required"


class ConflictError(InvalidInputError):
    """The request is valid but was already done (a decision contested twice)."""

    http_status = 409
    code = "conflict"


class RequestTooLargeError(InvalidInputError):
    """One request carries more text than `max_request_chars` in all: send it in several requests, or
    raise CHILDGUARD_MAX_REQUEST_CHARS on a host with the CPU for it."""

    http_status = 413
    code = "request_too_large"


class OverloadedError(ChildGuardError):
    """Every decision worker is busy and the queue is full: retry after `retry_after` seconds (the
    response's Retry-After), or run more workers (`childguard serve --workers N`)."""

    http_status = 503
    code = "overloaded"
    retry_after = 1


class StoreUnavailableError(ChildGuardError):
    """A backing store (the database, the conversation state in Redis) did not answer in time; retry
    later. Safety answers still go out, and escalations and reports are never refused for this: they are
    spooled and replayed."""

    exit_code = 4
    http_status = 503
    code = "store_unavailable"
    retry_after = 5


class UpstreamError(ChildGuardError):
    """An OpenAI-compatible endpoint childguard calls (the gateway's model, an LLM guard, an audit target
    or judge) gave no usable answer. The message names the URL and what to check there."""

    exit_code = 6
    http_status = 502
    code = "upstream_error"

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url
        self.attempts = 1  # a retrying client sets how many requests were spent before giving up


class UpstreamTimeoutError(UpstreamError):
    """No answer within the timeout: the model is overloaded or hung. Retry later, or raise the timeout
    for a slow model."""

    http_status = 504
    code = "upstream_timeout"


class UpstreamBusyError(UpstreamError):
    """This client holds its whole share of the connections to the chat model (the gateway): retry when
    one of its chats has finished."""

    http_status = 429
    code = "upstream_busy"
    retry_after = 1


class UpstreamUnreachableError(UpstreamError):
    """The connection was refused, reset or broken off: check the URL and that the server is running."""

    code = "upstream_unreachable"


class UpstreamStatusError(UpstreamError):
    """The endpoint answered with an HTTP error status; `status` and the start of the `body` say which."""

    code = "upstream_status"

    def __init__(self, message: str, url: str = "", status: int = 0, body: str = "") -> None:
        super().__init__(message, url)
        self.status = status
        self.body = body


class UpstreamResponseError(UpstreamError):
    """A success status, but not an OpenAI chat completion (not JSON, no `choices`): check that the URL
    is an OpenAI-compatible base URL, usually ending in /v1."""

    code = "upstream_bad_response"


class AuditTargetError(UpstreamError):
    """The audited endpoint could not be audited: it did not answer a first request, or too many cases
    failed for the score to mean anything. Nothing is scored as a pass; fix the target and run again."""

    exit_code = 8
    code = "audit_target_failed"


class ReportLimitError(ChildGuardError):
    """This address sent many reports in a short time; the ones before are with the moderators. Wait
    `retry_after` seconds, or use the helplines shown, which answer at once."""

    http_status = 429
    code = "too_many_reports"

    def __init__(self, wait_s: float) -> None:
        self.retry_after = max(1, int(wait_s + 0.999))
        super().__init__(f"we already have several reports from here; they are with a person who will read them. "
                         f"You can send another in {self.retry_after // 60 + 1} minutes. If you need help now, "
                         "the helplines below are there for you")
