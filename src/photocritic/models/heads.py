"""Heads that turn features into a NIMA-style distribution over ratings 1..10: the NumPy forward scoring runs.

The PyTorch modules that train them (``DistributionHead``, ``LogisticScoreHead``, ``emd_loss``) are in
:mod:`photocritic.models.torch_heads`; their names are still importable from here (torch loads then).
"""
from __future__ import annotations

import numpy as np

from photocritic.models.distributions import (  # noqa: F401 (their old home: still importable from here)
    N_BINS,
    RATINGS,
    distribution_mean,
    distribution_std,
    gaussian_distribution,
)


class HeadWeightsError(ValueError):
    """A weights file that does not fit the head its config describes."""


class NumpyHead:
    """The forward pass of :class:`DistributionHead` / :class:`LogisticScoreHead` in NumPy (eval mode:
    dropout off, batch norm on its running statistics), over the tensors of the head's safetensors file
    (``safetensors.numpy``), so scoring needs no torch. ``head(x)`` gives N x 10 logits.

    In float64: in float32 a product's summation order, which BLAS picks by the batch's size and its
    threads, moved a hidden-layer head's distributions in the 6th digit the records keep, so a photo's
    record depended on the photos scored beside it (the Ray runner's records differed from the single
    machine's). In float64 those differences sit ~10 digits below what is kept."""

    def __init__(self, spec: dict, state: dict[str, np.ndarray], in_dim: int) -> None:
        self.kind = "logistic" if spec.get("type") == "logistic" else "distribution"
        self.state = {k: np.asarray(v) for k, v in state.items()}
        used: set[str] = set()

        def take(key: str, shape: tuple[int, ...] | None = None, dtype=np.float64) -> np.ndarray:
            if key not in self.state:
                raise HeadWeightsError(f"missing tensor {key!r}")
            value = self.state[key]
            if shape is not None and value.shape != shape:
                raise HeadWeightsError(f"tensor {key!r} has shape {value.shape}, expected {shape}")
            used.add(key)
            return value.astype(dtype)

        if self.kind == "logistic":
            self.weight = take("weight", (in_dim,))
            self.bias = take("bias", ())
            self.ratings = take("ratings")
            self.sigma = float(spec.get("sigma", 1.5))
        else:
            self.hinges = int(spec.get("hinges", 0))
            if self.hinges:
                self.hinge_index = take("hinge_index", (self.hinges,), np.int64)
                self.hinge_knot = take("hinge_knot", (self.hinges,))
            width = in_dim + self.hinges
            self.mean = take("feature_mean", (width,))
            self.std = take("feature_std", (width,))
            # the same layer sequence as DistributionHead.mlp, so the tensors' names line up
            layers: list[tuple] = []
            index = 0
            dropout = float(spec.get("dropout", 0.0))
            for size in spec.get("hidden", ()):
                layers.append(("linear", take(f"mlp.{index}.weight", (size, width)), take(f"mlp.{index}.bias", (size,))))
                index += 1
                if spec.get("batch_norm", False):
                    p = f"mlp.{index}."
                    scale = take(p + "weight", (size,)) / np.sqrt(take(p + "running_var", (size,)) + 1e-5)
                    layers.append(("affine", scale, take(p + "bias", (size,)) - take(p + "running_mean", (size,)) * scale))
                    used.add(p + "num_batches_tracked")
                    index += 1
                layers.append(("relu",))
                index += 1 + bool(dropout)
                width = size
            index += bool(dropout and not spec.get("hidden"))
            n_bins = self.state.get(f"mlp.{index}.bias", np.zeros(N_BINS)).shape[0]
            layers.append(("linear", take(f"mlp.{index}.weight", (n_bins, width)), take(f"mlp.{index}.bias", (n_bins,))))
            self.layers = layers
        unknown = set(self.state) - used
        if unknown:
            raise HeadWeightsError(f"unexpected tensors {', '.join(sorted(unknown))}")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "logistic":
            p = 1.0 / (1.0 + np.exp(-(x @ self.weight + self.bias)))
            mean = 1.0 + (self.ratings.shape[0] - 1) * p
            return -((self.ratings[None, :] - mean[:, None]) ** 2) / (2 * self.sigma**2)
        if self.hinges:
            x = np.concatenate([x, np.maximum(x[:, self.hinge_index] - self.hinge_knot, 0)], axis=1)
        x = (x - self.mean) / self.std
        for layer in self.layers:
            if layer[0] == "linear":
                x = x @ layer[1].T + layer[2]
            elif layer[0] == "affine":
                x = x * layer[1] + layer[2]
            else:
                x = np.maximum(x, 0)
        return x


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64 (the distributions the records carry)."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


#: PyTorch names that used to live here; importing one of them imports torch (PEP 562)
_TORCH_NAMES = frozenset({"DistributionHead", "LogisticScoreHead", "emd_loss"})


def __getattr__(name: str):
    if name in _TORCH_NAMES:
        from photocritic.models import torch_heads

        return getattr(torch_heads, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
