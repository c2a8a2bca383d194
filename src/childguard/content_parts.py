"""OpenAI message content as it arrives: a string, or a list of content parts
(`[{"type": "text", "text": ...}, {"type": "image_url", "image_url": {"url": ...}}]`).

childguard checks text. Text parts are what the guard decides on and what redaction rewrites; an
image part is either refused with a clear "not supported yet" or passed on unchecked, as the
deployment chose (`CHILDGUARD_IMAGE_PARTS`), and any other kind of part (audio, files) is refused,
because passing on what nobody checked must be a decision, not an accident. The gateway and the
moderation API both read content through here, so they accept and refuse the same things."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .errors import InvalidInputError

ImagePolicy = Literal["refuse", "pass"]
TEXT_TYPES = frozenset({"text", "input_text"})  # Chat Completions says "text"; the Responses API "input_text"
IMAGE_TYPES = frozenset({"image_url", "input_image"})


class UnsupportedContentError(InvalidInputError):
    """A content part childguard cannot check yet (an image, audio, a file): send text, or let the
    deployment pass images on unchecked (CHILDGUARD_IMAGE_PARTS=pass)."""

    http_status = 400
    code = "unsupported_content"


@dataclass(frozen=True, slots=True)
class Content:
    """`text`: every text part, joined by newlines (what is checked); `images`: image parts passed on
    unchecked under the "pass" policy; `parts`: whether it came as a list of parts."""

    text: str
    images: int = 0
    parts: bool = False


def _part_type(part: Any, where: str) -> str:
    if not isinstance(part, dict) or not isinstance(part.get("type"), str):
        raise InvalidInputError(f"{where}: each content part must be an object with a 'type' (\"text\" or "
                                "\"image_url\")")
    kind: str = part["type"]
    if kind in TEXT_TYPES and not isinstance(part.get("text"), str):
        raise InvalidInputError(f"{where}: a text part needs a string 'text'")
    return kind


def read_content(content: Any, images: ImagePolicy = "refuse", where: str = "content") -> Content:
    """The checkable text of one message's content; raises a 422 for malformed content and a 400
    (`unsupported_content`) for parts that cannot be checked under `images`."""
    if isinstance(content, str):
        return Content(content)
    if not isinstance(content, list) or not content:
        raise InvalidInputError(f"{where}: must be a string or a non-empty list of content parts "
                                "([{\"type\": \"text\", \"text\": \"...\"}])")
    texts, n_images = [], 0
    for i, part in enumerate(content):
        kind = _part_type(part, f"{where}[{i}]")
        if kind in TEXT_TYPES:
            texts.append(part["text"])
        elif kind in IMAGE_TYPES and images == "pass":
            n_images += 1
        elif kind in IMAGE_TYPES:
            raise UnsupportedContentError(f"{where}[{i}]: image parts are not supported yet: childguard checks "
                                          "text only. Send the question as text, or ask the operator to pass "
                                          "images on unchecked (CHILDGUARD_IMAGE_PARTS=pass)")
        else:
            raise UnsupportedContentError(f"{where}[{i}]: content parts of type {kind[:40]!r} are not supported "
                                          "yet; send \"text\" parts")
    return Content("\n".join(texts), n_images, parts=True)


def map_text(content: Any, fn: Callable[[str], str], images: bool = True) -> Any:
    """`content` with `fn` applied to every text it holds (a string, each text part, an assistant's
    refusal part), keeping its shape. Image parts stay when `images` (a user message that passed
    `read_content`); any other part, and any other key of a part, is dropped, so nothing unread is
    passed on. Null content stays."""
    if isinstance(content, str):
        return fn(content)
    if not isinstance(content, list):
        return content
    out = []
    for p in content:
        kind = p.get("type") if isinstance(p, dict) else None
        if kind in TEXT_TYPES and isinstance(p.get("text"), str):
            out.append({"type": kind, "text": fn(p["text"])})
        elif kind == "refusal" and isinstance(p.get("refusal"), str):
            out.append({"type": kind, "refusal": fn(p["refusal"])})
        elif kind in IMAGE_TYPES and images:
            out.append({k: v for k, v in p.items() if k in ("type", "image_url", "detail")})
    return out


def texts_of(content: Any) -> list[str]:
    """Every text in `content`, for checks that must not miss a part (no validation: see read_content)."""
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    out: list[str] = []
    for p in content:
        value = (p.get("text") if p.get("type") in TEXT_TYPES else p.get("refusal")) if isinstance(p, dict) else None
        if isinstance(value, str):
            out.append(value)
    return out
