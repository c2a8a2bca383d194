"""Hashed n-gram features, identical at training and at inference time.

Character n-grams (2-5) carry the signal across scripts without a tokenizer (Chinese, Hindi and
Arabic included) and survive misspellings; word uni- and bigrams add precision. Hashing keeps the
model a fixed size and needs no vocabulary file. Everything is vectorised in NumPy so one message
costs tens of microseconds."""

from __future__ import annotations

import itertools
import re
import zlib

import numpy as np
import numpy.typing as npt

DEFAULT_DIM_BITS = 18
CHAR_NGRAMS = (2, 3, 4, 5)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_SEEDS = {n: np.uint64((0x9E3779B97F4A7C15 * (n + 1)) & 0xFFFFFFFFFFFFFFFF) for n in range(1, 9)}
_WORD = re.compile(r"\w+")

IndexArray = npt.NDArray[np.int64]


def _mix(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX2
    return h ^ (h >> np.uint64(33))


def featurize(text: str, dim_bits: int = DEFAULT_DIM_BITS) -> IndexArray:
    """Return the hashed feature indices of an already normalised text (duplicates kept = counts)."""
    mask = np.uint64((1 << dim_bits) - 1)
    padded = f" {text} "
    cp = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    length = cp.shape[0]
    parts: list[npt.NDArray[np.uint64]] = []
    with np.errstate(over="ignore"):
        for n in CHAR_NGRAMS:
            if length < n:
                continue
            h = np.full(length - n + 1, _SEEDS[n], dtype=np.uint64)
            for j in range(n):
                h = (h ^ cp[j : length - n + 1 + j]) * _FNV_PRIME
            parts.append(h)
        words = _WORD.findall(text)
        if words:
            hashed = [zlib.crc32(w.encode()) for w in words]
            hashed += [zlib.crc32(f"{a} {b}".encode(), 7) for a, b in itertools.pairwise(words)]
            parts.append(np.asarray(hashed, dtype=np.uint64) * np.uint64(0x2545F4914F6CDD1D))
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return (_mix(np.concatenate(parts)) & mask).astype(np.int64)
