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


def featurize_with_offsets(text: str, dim_bits: int = DEFAULT_DIM_BITS) -> tuple[IndexArray, IndexArray, IndexArray]:
    """Feature indices plus where each feature starts and ends in the padded text (" " + text + " ").

    The features of any sentence of the text are then the ones lying inside its span, so several
    sentences are scored from a single pass (see `span_mask`)."""
    mask = np.uint64((1 << dim_bits) - 1)
    padded = f" {text} "
    cp = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    length = cp.shape[0]
    parts: list[npt.NDArray[np.uint64]] = []
    starts: list[IndexArray] = []
    ends: list[IndexArray] = []
    with np.errstate(over="ignore"):
        for n in CHAR_NGRAMS:
            if length < n:
                continue
            h = np.full(length - n + 1, _SEEDS[n], dtype=np.uint64)
            for j in range(n):
                h = (h ^ cp[j : length - n + 1 + j]) * _FNV_PRIME
            parts.append(h)
            pos = np.arange(length - n + 1, dtype=np.int64)
            starts.append(pos)
            ends.append(pos + n)
        matches = list(_WORD.finditer(text))
        if matches:
            words = [m.group(0) for m in matches]
            hashed = [zlib.crc32(w.encode()) for w in words]
            hashed += [zlib.crc32(f"{a} {b}".encode(), 7) for a, b in itertools.pairwise(words)]
            parts.append(np.asarray(hashed, dtype=np.uint64) * np.uint64(0x2545F4914F6CDD1D))
            w_start = np.fromiter((m.start() + 1 for m in matches), dtype=np.int64, count=len(matches))
            w_end = np.fromiter((m.end() + 1 for m in matches), dtype=np.int64, count=len(matches))
            starts += [w_start, w_start[:-1]]
            ends += [w_end, w_end[1:]]
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        idx = (_mix(np.concatenate(parts)) & mask).astype(np.int64)
        return idx, np.concatenate(starts), np.concatenate(ends)


def featurize(text: str, dim_bits: int = DEFAULT_DIM_BITS) -> IndexArray:
    """Return the hashed feature indices of an already normalised text (duplicates kept = counts)."""
    return featurize_with_offsets(text, dim_bits)[0]


def span_mask(starts: IndexArray, ends: IndexArray, begin: int, end: int) -> npt.NDArray[np.bool_]:
    """Features of text[begin:end] padded with its neighbouring characters (in padded coordinates the
    span is [begin + 1, end + 1); one character either side stands for the padding spaces)."""
    return (starts >= begin) & (ends <= end + 2)
