"""The embedded multilingual classifier as a detector. Long texts are scored in overlapping
windows (a harmful sentence inside a long essay must not be diluted away), and base64 payloads
are decoded and scored too."""

from __future__ import annotations

import re

import numpy as np

from ..model import LinearModel, default_model
from ..normalize import normalize
from ..settings import Settings
from . import DetectionInput, Finding, register_detector
from .patterns import decode_payloads

_SENTENCE_END = re.compile(r"(?<=[.!?;\n。！？؟।])\s*")
MIN_SENTENCE_CHARS = 12


def windows(text: str, size: int) -> list[str]:
    if len(text) <= size:
        return [text]
    step = size // 2
    return [text[i : i + size] for i in range(0, len(text) - step, step)]


def sentences(text: str) -> list[str]:
    """Sentences long enough to mean something on their own; none when the text is one sentence."""
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    parts = [p for p in parts if len(p) >= MIN_SENTENCE_CHARS]
    return parts if len(parts) > 1 else []


def chunks(text: str, size: int) -> list[str]:
    """The whole text (in windows when long) plus each sentence: one harmful sentence among ordinary
    ones ("school was ok. i want to kill myself.") must not be averaged away."""
    return windows(text, size) + sentences(text)


class ClassifierDetector:
    name = "classifier"

    def __init__(self, model: LinearModel, window_chars: int = 600) -> None:
        self.model = model
        self.window_chars = window_chars

    def scores(self, item: DetectionInput) -> dict[str, float]:
        from ..features import featurize

        parts = chunks(item.normalized.text, self.window_chars)
        parts += [normalize(p).text for p in decode_payloads(item.text)]
        probs = np.max(
            [self.model.score_features(featurize(p, self.model.dim_bits)) for p in parts], axis=0
        )
        return dict(zip(self.model.labels, probs.tolist(), strict=True))

    def detect(self, item: DetectionInput) -> list[Finding]:
        return [Finding(label, score, self.name) for label, score in self.scores(item).items()]


@register_detector("classifier")
def _classifier(settings: Settings) -> ClassifierDetector:
    return ClassifierDetector(default_model(), settings.window_chars)
