"""The default classifier: multilingual sentence embeddings fused with the hashed n-gram model.

The encoder understands meaning across ~100 languages (an implicit method question, a disclosure in
Bengali); the n-gram model sees surface forms the encoder smooths over (obfuscated spellings, decoded
base64, one harmful sentence inside a long text). Neither replaces the other: per label, a small
logistic fusion, fitted on rows neither model was trained on, weighs the two logits and the text's
length (long ordinary text made the n-gram heads over-flag), then a per-label shift puts 0.5 at the
operating point chosen within the over-blocking budget (4d)."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import DetectorError, ModelError
from ..linear_model import LinearModel, read_model_files
from ..semantic import EMBED_CHARS, Encoder, get_encoder, head, set_threads, tail
from ..settings import Settings
from . import DetectionInput, Finding, register_detector
from .classifier import ClassifierDetector

MODEL_NAME = "semantic"
NGRAM_NAME = "semantic_ngram"  # the n-gram model trained with the heads, on the same rows (not `classifier`)
Array = npt.NDArray[np.float32]


def length_feature(n_chars: int) -> float:
    return float(np.log1p(n_chars) / 5.0)


@dataclass(frozen=True)
class SemanticHeads:
    """Embedding -> per-label logits (an MLP with one hidden layer, or linear when `w1` is None),
    then the fusion with the n-gram logit and length."""

    labels: tuple[str, ...]
    w1: Array | None  # (384, hidden)
    b1: Array | None
    w2: Array  # (hidden or 384, labels)
    b2: Array
    fusion: Array  # (labels, 4): weight of semantic logit, n-gram logit, length, bias
    meta: dict[str, object]

    def semantic_logits(self, emb: Array) -> Array:
        x = emb
        if self.w1 is not None and self.b1 is not None:
            x = np.maximum(x @ self.w1 + self.b1, 0.0)
        out: Array = (x @ self.w2 + self.b2).astype(np.float32)
        return out

    def fuse(self, sem: Array, ngram: Array, n_chars: float) -> Array:
        f = self.fusion
        logits = f[:, 0] * sem + f[:, 1] * ngram + f[:, 2] * length_feature(int(n_chars)) + f[:, 3]
        out: Array = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        return out

    @classmethod
    def load(cls, directory: Path | None = None, name: str = MODEL_NAME) -> SemanticHeads:
        raw, meta_text = read_model_files(name, directory)
        try:
            meta = json.loads(meta_text)
            labels = tuple(meta["labels"])
            with np.load(io.BytesIO(raw)) as data:
                arrays = {k: data[k].astype(np.float32) for k in data.files}
            w2, b2, fusion = arrays["w2"], arrays["b2"], arrays["fusion"]
            w1, b1 = arrays.get("w1"), arrays.get("b1")
        except (ValueError, KeyError, OSError, json.JSONDecodeError, zipfile.BadZipFile) as exc:
            raise ModelError(f"semantic model '{name}' is corrupt ({type(exc).__name__}: {exc}); reinstall "
                             "childguard or run `make train`") from exc
        n = len(labels)
        hidden = w2.shape[0]
        if (w2.shape != (hidden, n) or b2.shape != (n,) or fusion.shape != (n, 4)
                or (w1 is not None and (b1 is None or w1.shape != (384, hidden) or b1.shape != (hidden,)))
                or (w1 is None and hidden != 384)):
            raise ModelError(f"semantic model '{name}' has shapes that do not match its {n} labels; reinstall "
                             "childguard or run `make train`")
        return cls(labels, w1, b1, w2, b2, fusion, meta)


@lru_cache(maxsize=1)
def default_heads() -> SemanticHeads:
    return SemanticHeads.load()


@lru_cache(maxsize=1)
def default_ngram() -> LinearModel:
    return LinearModel.load(name=NGRAM_NAME)


def _logit(p: Array) -> Array:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    out: Array = np.log(q / (1 - q)).astype(np.float32)
    return out


class SemanticDetector:
    name = "semantic"

    def __init__(self, heads: SemanticHeads, ngram: ClassifierDetector, encoder: Encoder,
                 ignore: frozenset[str] = frozenset(), gate: float = 0.0) -> None:
        if tuple(ngram.model.labels) != heads.labels:
            raise ModelError("the semantic and n-gram models were trained on different labels; run `make train`")
        self.heads = heads
        self.ngram = ngram
        self.encoder = encoder
        self.ignore = ignore
        self.gate = gate

    def needs_encoder(self, item: DetectionInput, ngram_scores: dict[str, float]) -> bool:
        """The cascade: a child's message that every n-gram head scores far below its operating point is
        cleared without the encoder (most of a real mix is ordinary chat). Contacts and AI outputs, the
        high-risk roles, always get the encoder."""
        if self.gate <= 0.0 or item.role != "child":
            return True
        return max(ngram_scores.values(), default=0.0) >= self.gate

    def scores(self, item: DetectionInput) -> dict[str, float]:
        return self._scores(item, self.ngram.scores(item))

    def _scores(self, item: DetectionInput, ng: dict[str, float]) -> dict[str, float]:
        ng_logits = _logit(np.asarray([ng[label] for label in self.heads.labels], dtype=np.float32))
        text = item.normalized.text
        pieces = [head(text)] + ([tail(text)] if len(text) > EMBED_CHARS else [])
        try:
            emb = self.encoder.query(pieces)
        except Exception as exc:  # a C engine can fail in ways Python cannot type
            raise DetectorError(f"sentence encoder failed: {exc}") from exc
        sem = self.heads.semantic_logits(emb).max(axis=0)
        probs = self.heads.fuse(sem, ng_logits, len(text))
        return dict(zip(self.heads.labels, probs.tolist(), strict=True))

    def detect(self, item: DetectionInput) -> list[Finding]:
        """When the encoder fails on a message, the n-gram model's own calibrated scores stand in, named
        as such in the reasons (3c): a degraded decision, never none."""
        ng = self.ngram.scores(item)
        scores, name = ng, self.ngram.name
        if self.needs_encoder(item, ng):
            with contextlib.suppress(DetectorError):
                scores, name = self._scores(item, ng), self.name
        return [Finding(label, score, name) for label, score in scores.items() if label not in self.ignore]


@register_detector("semantic")
def _semantic(settings: Settings) -> SemanticDetector:
    ngram = ClassifierDetector(default_ngram(), settings.window_chars)
    set_threads(settings.encoder_threads)
    return SemanticDetector(default_heads(), ngram, get_encoder(), frozenset(settings.classifier_ignore),
                            settings.semantic_gate)


__all__ = ["SemanticDetector", "SemanticHeads", "default_heads", "default_ngram", "length_feature"]
