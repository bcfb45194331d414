"""Aesthetic-model metrics beside naive baselines, with bootstrap confidence intervals.

The figures AVA papers report: binary accuracy at a threshold of 5 on the mean rating, Spearman's
(SRCC) and Pearson's (PLCC) correlation of predicted and true means, the EMD between predicted and
true vote distributions, MAE/MSE of the mean, and AUC of good vs bad.

The naive baselines are what a model must beat to have learned anything: always predicting the
training mean (its correlations are undefined, its distribution the mean training distribution) and
always predicting the majority class. On AVA the majority class alone is right about 70% of the time
(roughly 7 photos in 10 have a mean above 5), so an accuracy of 75% is a small step, not a big one.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from photocritic.models.heads import RATINGS

METRICS = ("accuracy", "srcc", "plcc", "emd", "mae", "mse", "auc")


def emd(predicted: np.ndarray, target: np.ndarray, r: int = 2) -> np.ndarray:
    """Per-photo EMD between 10-bin distributions (NIMA's r = 2)."""
    diff = np.cumsum(predicted, axis=1) - np.cumsum(target, axis=1)
    return np.mean(np.abs(diff) ** r, axis=1) ** (1.0 / r)


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half)."""
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = stats.rankdata(scores)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _correlation(kind: str, a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")  # a constant prediction ranks nothing: undefined, not zero
    return float(stats.spearmanr(a, b)[0] if kind == "srcc" else stats.pearsonr(a, b)[0])


def srcc(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's correlation (NaN for a constant prediction)."""
    return _correlation("srcc", np.asarray(a, float), np.asarray(b, float))


def plcc(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's correlation (NaN for a constant prediction)."""
    return _correlation("plcc", np.asarray(a, float), np.asarray(b, float))


def compute_metrics(pred_mean: np.ndarray, true_mean: np.ndarray | None, true_good: np.ndarray,
                    pred_dist: np.ndarray | None = None, true_dist: np.ndarray | None = None,
                    pred_good: np.ndarray | None = None, threshold: float = 5.0) -> dict[str, float]:
    """All metrics that the labels allow (NaN for the rest).

    ``pred_good`` is the predicted class (default: predicted mean > threshold); AUC ranks photos by
    the predicted mean."""
    pred_good = pred_mean > threshold if pred_good is None else pred_good
    out = {"n": int(pred_mean.size), "accuracy": float(np.mean(pred_good == true_good)) if pred_mean.size else float("nan"),
           "auc": auc(pred_mean, true_good)}
    if true_mean is not None and np.isfinite(true_mean).all():
        out["srcc"] = _correlation("srcc", pred_mean, true_mean)
        out["plcc"] = _correlation("plcc", pred_mean, true_mean)
        out["mae"] = float(np.mean(np.abs(pred_mean - true_mean)))
        out["mse"] = float(np.mean((pred_mean - true_mean) ** 2))
    else:
        out.update(srcc=float("nan"), plcc=float("nan"), mae=float("nan"), mse=float("nan"))
    out["emd"] = float(np.mean(emd(pred_dist, true_dist))) if pred_dist is not None and true_dist is not None else float("nan")
    return out


def bootstrap_intervals(pred_mean, true_mean, true_good, pred_dist=None, true_dist=None, pred_good=None,
                        threshold: float = 5.0, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap intervals over photos (resampled with replacement, fixed seed)."""
    rng = np.random.default_rng(seed)
    n = pred_mean.size
    samples: dict[str, list[float]] = {m: [] for m in METRICS}
    pick = lambda a, i: None if a is None else a[i]  # noqa: E731
    for _ in range(n_boot if n else 0):
        i = rng.integers(0, n, n)
        values = compute_metrics(pred_mean[i], pick(true_mean, i), true_good[i], pick(pred_dist, i), pick(true_dist, i),
                                 pick(pred_good, i), threshold)
        for m in METRICS:
            samples[m].append(values[m])
    low, high = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out = {}
    for m, values in samples.items():
        finite = np.array([v for v in values if np.isfinite(v)])
        out[m] = (float(np.percentile(finite, low)), float(np.percentile(finite, high))) if finite.size > n_boot // 2 else (float("nan"), float("nan"))
    return out


def naive_baselines(train_mean: np.ndarray | None, train_good: np.ndarray, train_dist: np.ndarray | None,
                    true_mean: np.ndarray | None, true_good: np.ndarray, true_dist: np.ndarray | None,
                    threshold: float = 5.0) -> dict[str, dict[str, float]]:
    """"Training mean" (a constant score) and "majority class" (a constant label), scored on the same photos."""
    n = true_good.size
    majority = bool(np.mean(train_good) >= 0.5)
    constant = float(np.mean(train_mean)) if train_mean is not None and np.isfinite(train_mean).all() else (7.0 if majority else 3.0)
    dist = None
    if train_dist is not None and true_dist is not None:
        dist = np.repeat(train_dist.mean(axis=0, keepdims=True), n, axis=0)
    mean_row = compute_metrics(np.full(n, constant), true_mean, true_good, dist, true_dist, np.full(n, constant > threshold), threshold)
    majority_row = compute_metrics(np.full(n, constant), true_mean, true_good, None, None, np.full(n, majority), threshold)
    majority_row = {k: (v if k in ("n", "accuracy", "auc") else float("nan")) for k, v in majority_row.items()}
    return {"training mean": mean_row, "majority class": {**majority_row, "class": "good" if majority else "bad"}}


def mean_of_distribution(distribution: np.ndarray) -> np.ndarray:
    return distribution @ RATINGS[: distribution.shape[1]]
