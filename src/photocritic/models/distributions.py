"""Distributions over the ratings 1..10: the scale every head, record and metric speaks (NumPy only)."""
from __future__ import annotations

import numpy as np

N_BINS = 10
RATINGS = np.arange(1, N_BINS + 1, dtype=np.float64)


def distribution_mean(distribution: np.ndarray) -> np.ndarray:
    return distribution @ RATINGS[: distribution.shape[-1]]


def distribution_std(distribution: np.ndarray) -> np.ndarray:
    mean = distribution_mean(distribution)
    ratings = RATINGS[: distribution.shape[-1]]
    return np.sqrt(np.clip(distribution @ (ratings**2) - mean**2, 0, None))


def gaussian_distribution(mean: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Discretised normal over ratings 1..10: turns a mean-only label into a NIMA target."""
    mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    logits = -((RATINGS[None, :] - mean[:, None]) ** 2) / (2 * sigma**2)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True)


__all__ = ["N_BINS", "RATINGS", "distribution_mean", "distribution_std", "gaussian_distribution"]
