"""The embedded multilingual classifier as a detector. Long texts are scored in overlapping
windows (a harmful sentence inside a long essay must not be diluted away), and base64 payloads
are decoded and scored too."""

from __future__ import annotations

import re

import numpy as np

from ..features import featurize, featurize_with_offsets, span_mask
from ..linear_model import LinearModel, default_model
from ..normalize import decode_payloads, normalize
from ..settings import Settings
from . import DetectionInput, Finding, register_detector

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


class ClassifierDetector:
    name = "classifier"

    def __init__(self, model: LinearModel, window_chars: int = 600, ignore: frozenset[str] = frozenset()) -> None:
        self.model = model
        self.window_chars = window_chars
        self.ignore = ignore

    def scores(self, item: DetectionInput) -> dict[str, float]:
        text = item.normalized.text
        idx, starts, ends = featurize_with_offsets(text, self.model.dim_bits)
        masks = [span_mask(starts, ends, a, b) for a, b in chunks(text, self.window_chars)]
        probs = self.model.score_spans(idx, masks)
        for payload in decode_payloads(item.text):
            decoded = featurize(normalize(payload).text, self.model.dim_bits)
            probs = np.maximum(probs, self.model.score_features(decoded))
        return dict(zip(self.model.labels, probs.tolist(), strict=True))

    def detect(self, item: DetectionInput) -> list[Finding]:
        return [Finding(label, score, self.name) for label, score in self.scores(item).items()
                if label not in self.ignore]


@register_detector("classifier")
def _classifier(settings: Settings) -> ClassifierDetector:
    return ClassifierDetector(default_model(), settings.window_chars, frozenset(settings.classifier_ignore))
