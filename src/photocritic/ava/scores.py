"""Per-photo scores from AVA vote counts, and how much they re-rank photos.

Notation for one photo: ``c_k`` votes for rating ``k`` (k = 1..10), ``N = sum_k c_k``.
For its challenge ``C``: ``V_Ck = sum over photos in C of c_k`` (pooled votes), ``V_C = sum_k V_Ck``.

naive
    ``mean = sum_k k c_k / N`` -- the weighted average everyone uses.
bayes
    Shrinks the mean towards the challenge's pooled mean ``m_C = sum_k k V_Ck / V_C``::

        bayes = (N * mean + m * m_C) / (N + m)

    ``m`` ("prior votes") is estimated from the data (empirical Bayes, normal-normal model):
    ``m = sigma2 / tau2`` where ``sigma2`` is the average within-photo vote variance and ``tau2``
    is the variance of true photo means inside a challenge: the variance of ``mean - m_C`` minus
    the average sampling variance ``s^2 / N``. A photo with ``m`` votes sits halfway between its
    own mean and its challenge's. Pass a number to fix it.
lcb
    A one-sided lower confidence bound on the mean (normal approximation)::

        lcb = mean - z * s / sqrt(N),   s^2 = sum_k c_k (k - mean)^2 / N,   z = 1.645 (95 %)

    Few or disagreeing votes pull it down; it ranks "reliably good" photos first.
extreme
    Votes weighted by how rare their rating is in the photo's challenge (the seed's argument:
    in a challenge where almost nobody gives a 10, a 10 says more than a 6)::

        p_Ck = (V_Ck + 1) / (V_C + 10)         (pooled share of rating k, add-one smoothed)
        w_Ck = p_Ck ** -alpha                   (alpha = 0.5)
        extreme = sum_k k w_Ck c_k / sum_k w_Ck c_k

    It stays on the 1..10 scale; with ``alpha = 0`` it is the naive mean.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from photocritic.ava.parsing import RATINGS

SCORE_NAMES = ("naive", "bayes", "lcb", "extreme")
SCORE_FORMULAS = {
    "naive": "mean = Σ k·c_k / N",
    "bayes": "(N·mean + m·m_C) / (N + m); m_C = pooled mean of the challenge, m = σ²/τ² (empirical Bayes)",
    "lcb": "mean − z·s/√N; s = sd of the photo's votes, z = 1.645",
    "extreme": "Σ k·w_Ck·c_k / Σ w_Ck·c_k; w_Ck = p_Ck^(−α), p_Ck = (V_Ck+1)/(V_C+10), α = 0.5",
}


@dataclass
class ScoreSet:
    scores: dict[str, np.ndarray]
    prior_votes: float
    z: float
    alpha: float
    sd: np.ndarray  # within-photo sd of the votes
    votes: np.ndarray


def naive_mean(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    return counts @ RATINGS / counts.sum(axis=1)


def vote_sd(counts: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    mean = naive_mean(counts) if mean is None else mean
    second = counts @ (RATINGS.astype(np.float64) ** 2) / counts.sum(axis=1)
    return np.sqrt(np.maximum(second - mean**2, 0.0))


def _dense(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys, inverse = np.unique(groups, return_inverse=True)
    return keys, inverse.reshape(-1)


def pooled_counts(counts: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group keys, dense group index per photo, pooled (n_groups, 10) vote counts)."""
    keys, inverse = _dense(groups)
    pooled = np.zeros((keys.size, 10), dtype=np.float64)
    for k in range(10):  # one bincount per rating: far faster than np.add.at
        pooled[:, k] = np.bincount(inverse, weights=counts[:, k], minlength=keys.size)
    return keys, inverse, pooled


def estimate_prior_votes(mean: np.ndarray, sd: np.ndarray, votes: np.ndarray, group_mean: np.ndarray) -> float:
    """m = sigma2 / tau2 (see module docstring), clipped to [1, 10000]."""
    sigma2 = float(np.mean(sd**2))
    tau2 = float(np.var(mean - group_mean) - np.mean(sd**2 / votes))
    if not np.isfinite(tau2) or tau2 <= 0:
        return 10000.0
    return float(np.clip(sigma2 / tau2, 1.0, 10000.0))


def bayes_score(counts, challenge, prior_votes: float | None = None) -> tuple[np.ndarray, float]:
    counts = np.asarray(counts, dtype=np.float64)
    mean, votes = naive_mean(counts), counts.sum(axis=1)
    _, inverse, pooled = pooled_counts(counts, np.asarray(challenge))
    group_mean = (pooled @ RATINGS / pooled.sum(axis=1))[inverse]
    if prior_votes is None:
        prior_votes = estimate_prior_votes(mean, vote_sd(counts, mean), votes, group_mean)
    return (votes * mean + prior_votes * group_mean) / (votes + prior_votes), float(prior_votes)


def lcb_score(counts, z: float = 1.645) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    mean = naive_mean(counts)
    return mean - z * vote_sd(counts, mean) / np.sqrt(counts.sum(axis=1))


def extreme_score(counts, challenge, alpha: float = 0.5) -> np.ndarray:
    counts = np.asarray(counts, dtype=np.float64)
    _, inverse, pooled = pooled_counts(counts, np.asarray(challenge))
    share = (pooled + 1.0) / (pooled.sum(axis=1, keepdims=True) + 10.0)
    weighted = counts * (share ** -alpha)[inverse]
    return weighted @ RATINGS / weighted.sum(axis=1)


def compute_scores(counts, challenge, prior_votes: float | None = None, z: float = 1.645, alpha: float = 0.5) -> ScoreSet:
    counts = np.asarray(counts, dtype=np.float64)
    mean = naive_mean(counts)
    bayes, m = bayes_score(counts, challenge, prior_votes)
    scores = {"naive": mean, "bayes": bayes, "lcb": lcb_score(counts, z), "extreme": extreme_score(counts, challenge, alpha)}
    return ScoreSet(scores, m, z, alpha, vote_sd(counts, mean), counts.sum(axis=1))


def spearman_matrix(scores: dict[str, np.ndarray], ranks: dict[str, np.ndarray] | None = None) -> tuple[list[str], np.ndarray]:
    names = list(scores)
    ranks = ranks or {name: rankdata(scores[name]) for name in names}
    return names, np.corrcoef(np.vstack([ranks[name] for name in names]))


def top_k_overlap(a: np.ndarray, b: np.ndarray, k: int, order_a: np.ndarray | None = None,
                  order_b: np.ndarray | None = None) -> float:
    """Share of the k best photos under `a` that are also among the k best under `b` (ties: file order)."""
    k = int(min(max(k, 1), a.size))
    top_a = (np.argsort(-a, kind="stable") if order_a is None else order_a)[:k]
    top_b = (np.argsort(-b, kind="stable") if order_b is None else order_b)[:k]
    return np.intersect1d(top_a, top_b).size / k


def rerank_table(scores: dict[str, np.ndarray], ks: tuple[int, ...]) -> list[list]:
    """Rows: score, Spearman vs naive, top-k overlap vs naive for each k, median and 99th percentile
    of |rank shift| in percentiles. Each score is sorted once."""
    ranks = {name: rankdata(v) for name, v in scores.items()}
    orders = {name: np.argsort(-v, kind="stable") for name, v in scores.items()}
    n = scores["naive"].size
    names, rho = spearman_matrix(scores, ranks)
    rows = []
    for i, name in enumerate(names):
        shift = np.abs(ranks[name] - ranks["naive"]) * (100.0 / n)
        rows.append([name, float(rho[i, names.index("naive")])]
                    + [top_k_overlap(scores[name], scores["naive"], k, orders[name], orders["naive"]) for k in ks]
                    + [float(np.median(shift)), float(np.percentile(shift, 99))])
    return rows, names, rho
