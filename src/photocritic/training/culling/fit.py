"""The pairwise fit of culling's ranking: one non-negative cost per feature of
:func:`~photocritic.culling.ranking.group_features`, so that the better frame of each known pair costs less.

A frame's utility is minus its costs, ``-w . f``; the chance that frame *a* is better than *b* is
``sigmoid(w . (f_b - f_a))`` (a linear RankNet). Costs are kept non-negative, so falling behind on any
evidence never helps a frame, and every reason stays true to the order. Each kind of series (a generator,
BIQ2021's pairs) weighs the same in the fit, so none outvotes the others by its size.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize

from photocritic.culling.ranking import FEATURES, group_features
from photocritic.training.culling.evidence import Series


def feature_matrix(series: Series) -> np.ndarray:
    features = group_features(series.candidates)
    return np.stack([features[k] for k in FEATURES], axis=1)


def pair_differences(collection: Sequence[Series], real_share: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(f_worse - f_better per known pair, weight per pair: each kind of series sums to 1, or, with
    *real_share*, the real series (kind ``biq2021``) sum to that share of the whole and the generators
    share the rest equally)."""
    rows, kinds = [], []
    for series in collection:
        matrix = feature_matrix(series)
        for better, worse in series.better:
            rows.append(matrix[worse] - matrix[better])
            kinds.append(series.kind)
    kinds_array = np.array(kinds)
    weights = np.zeros(len(kinds))
    generated = sorted(set(kinds) - {"biq2021"})
    for kind in set(kinds):
        chosen = kinds_array == kind
        share = 1.0
        if real_share is not None and generated:
            share = real_share if kind == "biq2021" else (1.0 - real_share) / len(generated)
        weights[chosen] = share / chosen.sum()
    return np.array(rows).reshape(-1, len(FEATURES)), weights


def fit(collection: Sequence[Series], l2: float = 1e-3, real_share: float | None = None) -> dict[str, float]:
    """Non-negative costs per feature (in its own units) from the pairs of *collection* (see
    :func:`pair_differences` for *real_share*)."""
    diffs, weights = pair_differences(collection, real_share)
    scale = np.sqrt((diffs**2 * weights[:, None]).sum(0) / weights.sum())
    scale[scale < 1e-9] = 1.0
    x = diffs / scale
    total = weights.sum()

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        margin = x @ w
        value = float((weights * np.logaddexp(0.0, -margin)).sum() / total + l2 * (w @ w))
        grad = -(x * (weights / (1.0 + np.exp(margin)))[:, None]).sum(0) / total + 2 * l2 * w
        return value, grad

    result = minimize(loss, np.full(len(FEATURES), 0.1), jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * len(FEATURES))
    return {k: round(float(v), 5) for k, v in zip(FEATURES, result.x / scale)}


def utilities(series: Series, weights: dict[str, float]) -> np.ndarray:
    return -feature_matrix(series) @ np.array([weights.get(k, 0.0) for k in FEATURES])


def accuracy(collection: Sequence[Series], weights: dict[str, float]) -> float:
    """Share of series ordered right: a burst when its clean frame (the better of every pair) has the
    highest utility, alone; a pair when its better photo has the higher one."""
    if not collection:
        return float("nan")
    right = 0
    for series in collection:
        u = utilities(series, weights)
        best = {b for b, _ in series.better}
        right += all(u[b] > u[w] for b, w in series.better) and (len(best) > 1 or int(np.argmax(u)) in best)
    return right / len(collection)


__all__ = ["accuracy", "feature_matrix", "fit", "pair_differences", "utilities"]
