"""An LLM guard (Llama Guard 3 or any model that answers in its format) behind an OpenAI-compatible
endpoint, switched on by config: CHILDGUARD_LLM_GUARD_URL=http://host:port/v1 and adding
"llm_guard" to CHILDGUARD_DETECTORS. Stronger than the embedded model, but slower and remote, so it
adds findings rather than replacing the defaults."""

from __future__ import annotations

import re

from ..chat_client import ChatClient, ChatEndpoint, chat_body
from ..errors import ConfigError, DetectorError, UpstreamError
from ..settings import Settings
from ..taxonomy import get_taxonomy
from . import DetectionInput, Finding, register_detector

# Llama Guard 3 hazard codes -> childguard categories, from taxonomy.yaml (codes with no child-protection
# meaning are dropped)
LLAMA_GUARD_MAP: dict[str, str] = get_taxonomy().llama_guard_map()
_CODES = re.compile(r"\bS(\d{1,2})\b")


def parse_verdict(text: str) -> list[str]:
    """'safe' -> []; 'unsafe\\nS1,S11' -> ['violence', 'self_harm']; anything else is an error."""
    lines = text.strip().lower().splitlines()
    if not lines:
        raise DetectorError("LLM guard returned an empty answer")
    head = lines[0].strip()
    if head == "safe":
        return []
    if head != "unsafe":
        raise DetectorError(f"LLM guard answer not understood: {text[:80]!r}")
    codes = [f"S{n}" for n in _CODES.findall(" ".join(lines[1:]).upper())]
    return sorted({LLAMA_GUARD_MAP[c] for c in codes if c in LLAMA_GUARD_MAP})


class LlmGuardDetector:
    name = "llm_guard"

    def __init__(self, url: str, model: str, api_key: str | None, timeout_s: float) -> None:
        self.client = ChatClient(ChatEndpoint(url, api_key), timeout_s)
        self.model = model

    def detect(self, item: DetectionInput) -> list[Finding]:
        role = "assistant" if item.role == "ai_output" else "user"
        messages = [{"role": role, "content": item.text}]
        if role == "assistant":
            messages.insert(0, {"role": "user", "content": "(a child's message)"})
        try:
            answer = self.client.complete(chat_body(self.model, messages)).text
        except UpstreamError as exc:
            raise DetectorError(f"LLM guard at {self.client.endpoint.url} failed: {exc}") from exc
        return [Finding(cat, 0.9, self.name, "LLM guard verdict") for cat in parse_verdict(answer)]


@register_detector("llm_guard")
def _llm_guard(settings: Settings) -> LlmGuardDetector:
    if not settings.llm_guard_url:
        raise ConfigError("detector 'llm_guard' needs CHILDGUARD_LLM_GUARD_URL (an OpenAI-compatible base URL)")
    return LlmGuardDetector(settings.llm_guard_url, settings.llm_guard_model, settings.llm_guard_api_key,
                            settings.llm_guard_timeout_s)
