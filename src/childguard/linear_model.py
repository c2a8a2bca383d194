"""The embedded classifier at run time: a hashed linear model (one sigmoid head per label) stored as
a small .npz in the package. Pure NumPy: no scikit-learn import, so start-up stays fast."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .errors import ModelError
from .features import featurize

MODEL_NAME = "classifier"


def read_model_files(name: str, directory: Path | None = None) -> tuple[bytes, str]:
    """`name`.npz and `name`.json from the package (or `directory`), for every shipped model."""
    try:
        if directory is None:
            base = resources.files("childguard.models")
            return (base.joinpath(f"{name}.npz").read_bytes(),
                    base.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        return (directory / f"{name}.npz").read_bytes(), (directory / f"{name}.json").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise ModelError(f"embedded model '{name}' not found ({exc}); reinstall childguard or run "
                         "`make train`") from exc


@dataclass(frozen=True)
class LinearModel:
    labels: tuple[str, ...]
    weights: npt.NDArray[np.float32]  # (2**dim_bits, n_labels)
    bias: npt.NDArray[np.float32]  # (n_labels,)
    dim_bits: int
    meta: dict[str, object]

    def score_spans(self, idx: npt.NDArray[np.int64], masks: list[npt.NDArray[np.bool_]]) -> npt.NDArray[np.float32]:
        """Max over spans of the per-span probabilities, gathering the weights only once."""
        if idx.size == 0 or not masks:
            return self.score_features(idx)
        member = np.stack(masks).astype(np.float32)  # (spans, features)
        counts = member.sum(axis=1)
        member = member[counts > 0]
        if member.shape[0] == 0:
            return self.score_features(idx[:0])
        sums: npt.NDArray[np.float32] = member @ self.weights[idx]  # one BLAS call for every span
        logits = (sums / np.sqrt(counts[counts > 0])[:, None] + self.bias).max(axis=0)
        probs: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        return probs

    def score_features(self, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        if idx.size == 0:
            logits = self.bias
        else:
            logits = self.weights[idx].sum(axis=0) / np.float32(np.sqrt(idx.size)) + self.bias
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)

    def score(self, normalized_text: str) -> dict[str, float]:
        probs = self.score_features(featurize(normalized_text, self.dim_bits))
        return dict(zip(self.labels, probs.tolist(), strict=True))

    @classmethod
    def load(cls, directory: Path | None = None, name: str = MODEL_NAME) -> LinearModel:
        npz_bytes, meta_text = read_model_files(name, directory)
        import io

        try:
            with np.load(io.BytesIO(npz_bytes)) as data:
                weights = data["weights"].astype(np.float32)
                bias = data["bias"].astype(np.float32)
            meta = json.loads(meta_text)
            labels = tuple(meta["labels"])
        except (ValueError, KeyError, TypeError, OSError) as exc:  # a cut or corrupt file, not a crash
            raise ModelError(f"model '{name}' could not be read ({type(exc).__name__}: {exc}); restore "
                             f"{name}.npz and {name}.json (reinstall childguard, or run `make train`)") from exc
        if weights.shape != (1 << int(meta["dim_bits"]), len(labels)) or bias.shape != (len(labels),):
            raise ModelError(f"model '{name}' has shape {weights.shape}, which does not match its metadata")
        return cls(labels, weights, bias, int(meta["dim_bits"]), meta)


@lru_cache(maxsize=1)
def default_model() -> LinearModel:
    return LinearModel.load()
