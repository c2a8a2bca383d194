"""The embedded multilingual classifier as a detector. Long texts are scored in overlapping
windows (a harmful sentence inside a long essay must not be diluted away), and base64 payloads
are decoded and scored too.

A model with a gate head ("harm", a class-balanced "needs intervention" head) caps every category's score
by the gate's: category heads learn which harm it is, the gate whether there is harm at all, so a topic word
that a category head over-weights ("kill a Python process") does not stop the message on its own."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..features import featurize, featurize_with_offsets, span_mask
from ..linear_model import LinearModel, default_model
from ..normalize import decode_payloads, normalize
from ..settings import Settings
from . import DetectionInput, Finding, register_detector

GATE_LABEL = "harm"
_SENTENCE_END = re.compile(r"(?<=[.!?;\n。！？؟।])\s*")
MIN_SENTENCE_CHARS = 12


Span = tuple[int, int]


def windows(text: str, size: int) -> list[Span]:
    if len(text) <= size:
        return [(0, len(text))]
    step = size // 2
    return [(i, min(i + size, len(text))) for i in range(0, len(text) - step, step)]


def sentences(text: str) -> list[Span]:
    """Sentences long enough to mean something on their own; none when the text is one sentence."""
    spans, begin = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > begin:
            spans.append((begin, m.start()))
        begin = m.end()
    if begin < len(text):
        spans.append((begin, len(text)))
    spans = [(a, b) for a, b in spans if b - a >= MIN_SENTENCE_CHARS]
    return spans if len(spans) > 1 else []


def chunks(text: str, size: int) -> list[Span]:
    """The whole text (in windows when long) plus each sentence: one harmful sentence among ordinary
    ones ("school was ok. i want to kill myself.") must not be averaged away."""
    return windows(text, size) + sentences(text)


def raw_scores(model: LinearModel, text: str, normalized_text: str, window_chars: int = 600) -> np.ndarray:
    """Every head's probability, max over the text's windows and sentences and any decoded payload; the
    trainer calibrates on exactly these scores."""
    idx, starts, ends = featurize_with_offsets(normalized_text, model.dim_bits)
    masks = [span_mask(starts, ends, a, b) for a, b in chunks(normalized_text, window_chars)]
    probs = model.score_spans(idx, masks)
    for payload in decode_payloads(text):
        decoded = featurize(normalize(payload).text, model.dim_bits)
        probs = np.maximum(probs, model.score_features(decoded))
    return probs


def capped(probs: np.ndarray, labels: tuple[str, ...], solo: dict[str, float]) -> np.ndarray:
    """Rows of head probabilities -> the scores the detector reports, the gate's column dropped: each category
    is capped by the gate unless it is over its own stricter `solo` threshold (a clear self-harm request needs
    no second opinion); topics are not harm (they adapt an answer) and are never capped. The trainer
    calibrates and measures with this same function."""
    gate = probs[:, labels.index(GATE_LABEL)]
    cols = []
    for j, label in enumerate(labels):
        if label == GATE_LABEL:
            continue
        p = probs[:, j]
        cols.append(p if label.startswith("topic:") else np.where(p >= solo.get(label, 2.0), p, np.minimum(p, gate)))
    return np.stack(cols, axis=1).astype(np.float32)


def gated(labels: tuple[str, ...], probs: np.ndarray, solo: dict[str, float] | None = None) -> dict[str, float]:
    """Label -> score of one text; a model without a gate reports its heads as they are."""
    if GATE_LABEL not in labels:
        return dict(zip(labels, probs.tolist(), strict=True))
    names = tuple(label for label in labels if label != GATE_LABEL)
    return dict(zip(names, capped(probs[None, :], labels, solo or {})[0].tolist(), strict=True))


class ClassifierDetector:
    name = "classifier"

    def __init__(self, model: LinearModel, window_chars: int = 600, ignore: frozenset[str] = frozenset()) -> None:
        self.model = model
        self.window_chars = window_chars
        self.ignore = ignore
        solo = model.meta.get("solo_thresholds") or {}
        self.solo = {str(k): float(v) for k, v in solo.items()} if isinstance(solo, dict) else {}

    def scores(self, item: DetectionInput) -> dict[str, float]:
        return gated(self.model.labels, raw_scores(self.model, item.text, item.normalized.text, self.window_chars),
                     self.solo)

    def detect(self, item: DetectionInput) -> list[Finding]:
        if not any(ch.isalpha() for ch in item.normalized.text) and not decode_payloads(item.text):
            # a bare number, an emoji, "?!": no words, nothing an n-gram model can read as harm; a child's
            # "12" in answer to "how old are you?" is the age signals' and the conversation's to weigh
            return []
        return [Finding(label, score, self.name) for label, score in self.scores(item).items()
                if label not in self.ignore]


@register_detector("classifier")
def _classifier(settings: Settings) -> ClassifierDetector:
    model = default_model() if settings.classifier_model_dir is None else model_from(settings.classifier_model_dir)
    return ClassifierDetector(model, settings.window_chars, frozenset(settings.classifier_ignore))


@lru_cache(maxsize=4)
def model_from(directory: Path) -> LinearModel:
    return LinearModel.load(directory)
