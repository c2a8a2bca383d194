"""One typed settings object for the whole package (env prefix CHILDGUARD_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .agebands import AgeBand


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHILDGUARD_", env_nested_delimiter="__", extra="ignore")

    default_age_band: AgeBand = Field(
        AgeBand.TRANSITION,
        description="Band used when a request gives no age. The AADC asks services that do not know "
        "a user's age to treat them as a child; set the band your audience is closest to.",
    )
    default_language: str = Field("en", description="Language of messages when detection is unsure.")
    policy_file: Path | None = Field(None, description="YAML file merged over the shipped policy.")
    helplines_file: Path | None = Field(None, description="YAML file merged over the shipped helplines.")
    detectors: list[str] = Field(
        default_factory=lambda: ["classifier", "personal_data", "contact_risk", "prompt_injection"],
        description="Names from the detector registry, run in this order. 'classifier' is the hashed n-gram "
        "model; 'semantic' (opt-in) the multilingual sentence encoder fused with its own n-gram model.",
    )
    semantic_gate: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="Cascade: a child's message whose n-gram scores are all below this skips the sentence "
        "encoder (0 sends every message to the encoder). Contacts and AI outputs always get the encoder.",
    )
    encoder_threads: int = Field(
        0, ge=0, le=64, description="OpenMP threads of the sentence encoder per process (0: all cores). Batch "
        "workers use 1 each.")
    classifier_ignore: list[str] = Field(
        default_factory=lambda: ["personal_data"],
        description="Classifier heads whose scores are not used: personal data is found by the pattern "
        "detector with far higher precision than a bag-of-n-grams head ('i'm at school' is not a disclosure).",
    )
    classifier_model_dir: Path | None = Field(
        None, description="Folder with a retrained classifier.json/.npz (`make train` with the console's false-alarm "
        "exports) used instead of the shipped model; unset: the model in the package.",
    )
    max_text_chars: int = Field(100_000, ge=1, description="Longer texts are refused with TextTooLongError.")
    window_chars: int = Field(
        600, ge=100, description="Long texts are scored in overlapping windows of this size (max over windows)."
    )
    conversation_store: str = Field("memory", description="'memory' (one process) or 'redis' (shared by workers)")
    redis_url: str = Field("redis://127.0.0.1:6379/0")
    conversation_ttl_s: int = Field(14 * 86400, ge=60, description="state of an idle conversation is deleted after")
    max_conversations: int = Field(10_000, ge=1, description="in-memory store bound (least recently used evicted)")
    conversation_analyzers: list[str] = Field(default_factory=lambda: ["grooming", "bullying", "dependency"])
    grooming_escalate_risk: float = Field(0.75, gt=0, le=1)
    bullying_window_s: int = Field(7 * 86400, ge=60, description="hostile messages count within this window")
    bullying_signal_score: float = Field(
        0.25, gt=0, le=1, description="hostility score that counts towards harassment; lower than the single-message "
        "threshold because repetition and a target, not one message, are the evidence")
    bullying_repeat: int = Field(3, ge=2, description="hostile messages to one child that make harassment")
    session_gap_s: int = Field(30 * 60, ge=60, description="a pause this long starts a new session")
    long_session_s: int = Field(2 * 3600, ge=60, description="session length that earns a break nudge (4f)")
    late_night_hours: tuple[int, int] = Field((22, 6), description="local hours [start, end) counted as late night")
    host: str = Field("127.0.0.1", description="service bind address")
    port: int = Field(8000, ge=1, le=65535)
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024, description="larger request bodies get HTTP 413")
    header_timeout_s: float = Field(10.0, gt=0, description="request headers must be complete this long after "
                                    "the connection (or the first byte of a keep-alive request); then it is closed")
    body_timeout_s: float = Field(30.0, gt=0, description="a request body must be complete this long after its headers")
    max_connections: int | None = Field(None, ge=1, description="concurrent connections and requests; more get 503 "
                                        "(default: the open-file limit less 100, at most 4096)")
    forwarded_allow_ips: str | None = Field(None, description="proxy addresses whose X-Forwarded-For is trusted "
                                            "(comma-separated, as uvicorn's); default none: the socket address counts")
    rate_limit_per_minute: int = Field(1200, ge=1, description="per API key (or client address without one)")
    rate_limit_burst: int = Field(200, ge=1)
    report_burst: int = Field(10, ge=1, description="children's reports one client address may send at once; the "
                              "first is never refused")
    report_per_hour: float = Field(30.0, ge=0, description="reports per hour an address gets back after the burst")
    max_inputs: int = Field(100, ge=1, description="texts per moderation request")
    max_dialogue_messages: int = Field(500, ge=1, description="messages per whole-dialogue check")
    max_request_chars: int = Field(200_000, ge=1, description="characters of text in one request, all fields "
                                   "together; more gets HTTP 413 (a budget on the CPU one request may take)")
    cpu_threads: int = Field(2, ge=1, description="decision workers per process (off the event loop)")
    cpu_queue: int = Field(64, ge=0, description="requests waiting for a decision worker; more get HTTP 503")
    store_threads: int = Field(8, ge=1, description="threads per process for database calls")
    store_timeout_s: float = Field(1.0, gt=0, description="a database call slower than this counts as down: "
                                   "escalations and reports are spooled, other calls get HTTP 503")
    spool_file: Path = Field(Path("childguard-data/spool.log"), description="encrypted, fsynced spool of "
                             "escalations and reports written while the database is unreachable")
    spool_replay_s: float = Field(1.0, gt=0, description="how often the spool is replayed into the database")
    metrics_dir: Path | None = Field(None, description="where `serve --workers N` keeps the workers' Prometheus "
                                     "samples (emptied at start), so /metrics sums every worker; default: "
                                     "`metrics/` next to the key file (the service's data directory)")
    upstream_url: str | None = Field(None, description="OpenAI-compatible base URL the chat gateway forwards to")
    upstream_model: str | None = Field(None, description="model name sent upstream (default: the client's)")
    upstream_api_key: str | None = Field(None, repr=False)
    upstream_timeout_s: float = Field(60.0, gt=0, description="a whole answer, streamed or not, must arrive "
                                      "within this; then the child gets a friendly 'try again later'")
    upstream_first_byte_timeout_s: float = Field(15.0, gt=0, description="the chat model must start answering "
                                                 "(and never pause) longer than this")
    upstream_max_connections: int = Field(64, ge=1, description="connections to the chat model per process")
    upstream_client_share: float = Field(0.25, gt=0, le=1, description="share of those one API key (or client "
                                         "address) may hold, so one client's hung chats cannot starve the others")
    stream_holdback_chars: int = Field(120, ge=0, description="streamed text held back until checked")
    image_parts: Literal["refuse", "pass"] = Field("refuse", description="OpenAI image content parts: refused "
                                                   "with 'not supported yet', or passed on unchecked")
    client_instructions: Literal["drop", "subordinate"] = Field(
        "drop", description="a client's system/developer messages: dropped, or added after the safety prompt as "
        "instructions that never outrank it (redacted and checked as ai_output)")
    tool_results: Literal["check", "pass"] = Field("check", description="tool results sent to the gateway are "
                                                   "checked as ai_output and withheld from the model when unsafe")
    tool_arguments: Literal["redact", "pass"] = Field("redact", description="the child's personal data in "
                                                      "tool-call arguments is redacted before it goes upstream")
    restore_redacted: bool = Field(True, description="the child's redacted data is put back in the answer the "
                                   "child sees (kept in memory for the turn only; never sent upstream or stored)")
    database_url: str = Field("sqlite:///childguard-data/childguard.db",
                              description="SQLAlchemy URL; PostgreSQL in production (postgresql+psycopg://...)")
    encryption_key: str | None = Field(None, repr=False, description="base64 AES-256 key for excerpts at rest")
    key_file: Path = Field(Path("childguard-data/excerpt.key"), description="created with 0600 when no key is given")
    retention_days: int = Field(30, ge=1, description="flagged excerpts are purged after this many days")
    api_keys: list[str] = Field(default_factory=list, repr=False,
                                description="when set, /v1/ APIs (except the children's /v1/reports) need one "
                                "of these as a Bearer token")
    require_consent: bool = Field(False, description="chat and conversation APIs refuse child profiles without "
                                  "recorded parental consent (COPPA-style services)")
    session_hours: float = Field(8.0, gt=0, description="console sessions expire after this many hours")
    login_max_failures: int = Field(5, ge=1, description="failed sign-ins in a row (per account, and per client "
                                    "address) before each further one must wait")
    login_backoff_s: float = Field(30.0, ge=0, description="first wait after login_max_failures; doubles per failure")
    lockout_minutes: float = Field(15.0, ge=0, description="longest wait the sign-in back-off reaches")
    cookie_secure: bool | None = Field(None, description="Secure flag of console cookies; default: on unless the "
                                       "request is plain HTTP from a loopback address (local development)")
    purge_interval_s: float = Field(3600.0, gt=0, description="how often the retention purge job runs")
    stats_flush_s: float = Field(5.0, gt=0, description="how often aggregated decision counts are written")
    transparency_days: int = Field(30, ge=1, description="period the transparency report covers")
    transparency_min_count: int = Field(5, ge=1, description="smaller published counts are shown as '<N'")
    # age signals (4c, 5a): what a user says about their own age only ever makes protection stricter
    age_signal_mode: Literal["switch", "verify"] = Field(
        "switch", description="'switch': a strong signal of a younger band applies that band at once; 'verify': "
        "ask the age-assurance webhook first (CHILDGUARD_AGE_ASSURANCE_URL) and apply it if confirmed")
    age_signal_min_confidence: float = Field(0.7, ge=0, le=1, description="signals at least this confident act")
    age_assurance_url: str | None = Field(None, description="webhook that receives {profile (keyed hash), "
                                          "implied_band} and answers {confirmed, band}")
    age_assurance_api_key: str | None = Field(None, repr=False)
    age_assurance_timeout_s: float = Field(3.0, gt=0)
    age_assurance_fail_closed: bool = Field(True, description="no answer in time: apply the younger band anyway")
    jurisdiction: str | None = Field(None, description="preset of data/jurisdictions (UK, EU, US, US-CA, AU, "
                                     "default): consent, reminders, retention, published counts; explicit settings win")
    ai_disclosure_every_s: float | None = Field(None, gt=0, description="remind known minors they talk with an AI "
                                                "at the start and this often (set by US-CA, EU, AU, default)")
    contest_window_days: float = Field(14, gt=0, description="a blocked or redirected child's message can be "
                                       "contested for this long; its sealed excerpt is deleted after (3i)")
    llm_guard_url: str | None = Field(None, description="OpenAI-compatible base URL of an LLM guard model.")
    llm_guard_model: str = Field("llama-guard", description="Model name sent to the LLM guard endpoint.")
    llm_guard_api_key: str | None = Field(None, repr=False)
    llm_guard_timeout_s: float = Field(10.0, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
