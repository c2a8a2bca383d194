"""Sentence embeddings of training rows, cached on disk by text hash.

Embedding ~100k rows with the 4-bit encoder takes a quarter of an hour on two cores; the heads and the
fusion take seconds. The cache makes retraining (new data, a console false-alarm export) pay only for the
new texts. Shards are append-only, so an interrupted run keeps what it finished."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from childguard.semantic import encoder_input, get_encoder

DEFAULT_CACHE = Path("build/e5_cache")
SHARD_ROWS = 4096


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, directory: Path = DEFAULT_CACHE) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.index: dict[str, tuple[int, int]] = {}
        self.shards: list[npt.NDArray[np.float16]] = []
        for keys_path in sorted(directory.glob("shard_*.keys")):
            vec_path = keys_path.with_suffix(".npy")
            if not vec_path.exists():
                continue
            vecs = np.load(vec_path)
            keys = keys_path.read_text().split()
            if len(keys) != len(vecs):
                continue
            self.shards.append(vecs)
            for i, k in enumerate(keys):
                self.index[k] = (len(self.shards) - 1, i)
        self._next = 0
        self._tag = f"{os.getpid()}_{int(time.time())}"

    def has(self, text: str) -> bool:
        return _key(encoder_input(text)) in self.index

    def embed(self, texts: Sequence[str], batch: int = 64, progress: bool = True) -> npt.NDArray[np.float32]:
        inputs = [encoder_input(t) for t in texts]
        todo = list(dict.fromkeys(t for t in inputs if _key(t) not in self.index))
        if todo:
            encoder = get_encoder()
            t0 = time.perf_counter()
            for start in range(0, len(todo), SHARD_ROWS):
                part = todo[start:start + SHARD_ROWS]
                vecs = np.concatenate([encoder.query(part[i:i + batch]) for i in range(0, len(part), batch)])
                self._save(part, vecs.astype(np.float16))
                if progress:
                    done = start + len(part)
                    rate = done / (time.perf_counter() - t0)
                    print(f"embedded {done}/{len(todo)} ({rate:.0f}/s, eta {(len(todo) - done) / rate:.0f}s)",
                          file=sys.stderr, flush=True)
        out = np.empty((len(inputs), 384), dtype=np.float32)
        for i, t in enumerate(inputs):
            s, j = self.index[_key(t)]
            out[i] = self.shards[s][j]
        return out

    def _save(self, texts: list[str], vecs: npt.NDArray[np.float16]) -> None:
        name = self.directory / f"shard_{self._tag}_{self._next:04d}"
        self._next += 1
        np.save(name.with_suffix(".npy"), vecs)
        name.with_suffix(".keys").write_text("\n".join(_key(t) for t in texts) + "\n")  # keys last: marks done
        self.shards.append(vecs)
        for i, t in enumerate(texts):
            self.index[_key(t)] = (len(self.shards) - 1, i)


def main() -> None:
    from training.build_dataset import build
    from training.sources_v2 import build_v2
    from training.train_semantic import semantic_rows

    rows = build(Path("../shared/data")) + build_v2(Path("../shared/data"), Path("../shared/eval"))
    texts = [r["text"] for r in semantic_rows(rows)]
    part, parts = (int(v) for v in os.environ.get("EMBED_PART", "0/1").split("/"))  # several processes share
    EmbeddingCache().embed(texts[part::parts])


if __name__ == "__main__":
    main()
