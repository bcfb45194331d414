"""Scores beyond the naive mean: each checked against its documented formula or a property it must have."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from photocritic.ava.scores import (
    bayes_score,
    compute_scores,
    estimate_prior_votes,
    extreme_score,
    lcb_score,
    naive_mean,
    rerank_table,
    spearman_matrix,
    top_k_overlap,
    vote_sd,
)


def plain_stats(counts):
    votes = [k + 1 for k, c in enumerate(counts) for _ in range(c)]
    return float(np.mean(votes)), float(np.std(votes)), len(votes)


def test_naive_mean_and_sd_match_the_votes_spelled_out(plain_rows):
    rows = plain_rows[:300]
    counts = np.array([r[2:12] for r in rows])
    mean, sd = naive_mean(counts), vote_sd(counts)
    for i, row in enumerate(rows):
        m, s, _ = plain_stats(row[2:12])
        assert mean[i] == pytest.approx(m)
        assert sd[i] == pytest.approx(s)


def test_bayes_follows_its_formula_with_a_fixed_prior():
    counts = np.array([[0, 0, 0, 0, 0, 0, 0, 0, 0, 2],     # challenge 1: two 10s
                       [0, 0, 0, 0, 10, 10, 0, 0, 0, 0],   # challenge 1: twenty middling votes
                       [0, 0, 5, 0, 0, 0, 0, 0, 0, 0]])    # challenge 2 alone
    challenge = np.array([1, 1, 2])
    score, m = bayes_score(counts, challenge, prior_votes=6.0)
    assert m == 6.0
    pooled_mean_1 = (2 * 10 + 10 * 5 + 10 * 6) / 22
    assert score[0] == pytest.approx((2 * 10 + 6 * pooled_mean_1) / (2 + 6))
    assert score[1] == pytest.approx((20 * 5.5 + 6 * pooled_mean_1) / (20 + 6))
    assert score[2] == pytest.approx(3.0)  # alone in its challenge: the prior is its own mean
    assert bayes_score(counts, challenge, prior_votes=0.0)[0] == pytest.approx(naive_mean(counts))


def test_estimated_prior_recovers_a_known_variance_ratio():
    rng = np.random.default_rng(3)
    n = 40000
    sigma2, tau2 = 2.0, 0.4  # true m = 5
    votes = rng.integers(50, 400, n).astype(float)
    group_mean = rng.normal(5.5, 0.3, n)
    mean = group_mean + rng.normal(0, np.sqrt(tau2), n) + rng.normal(0, np.sqrt(sigma2 / votes))
    sd = np.full(n, np.sqrt(sigma2))
    assert estimate_prior_votes(mean, sd, votes, group_mean) == pytest.approx(sigma2 / tau2, rel=0.1)


def test_lcb_is_below_the_mean_and_tightens_with_more_votes():
    counts = np.array([[1, 2, 5, 10, 20, 15, 8, 4, 2, 1]])
    mean, sd, n = plain_stats(counts[0])
    assert lcb_score(counts)[0] == pytest.approx(mean - 1.645 * sd / np.sqrt(n))
    assert lcb_score(counts * 100)[0] > lcb_score(counts)[0]
    assert lcb_score(counts * 100)[0] < mean


def test_extreme_weights_rare_ratings_up_and_reduces_to_naive_at_alpha_zero(plain_rows):
    counts = np.array([r[2:12] for r in plain_rows[:2000]])
    challenge = np.array([r[14] for r in plain_rows[:2000]])
    assert extreme_score(counts, challenge, alpha=0.0) == pytest.approx(naive_mean(counts))
    # Two photos with the same votes except one 10 vs one 6, in a challenge where 10s are rare:
    base = [0, 1, 3, 10, 30, 30, 10, 3, 1, 0]
    with_ten, with_six = list(base), list(base)
    with_ten[9] += 1
    with_six[5] += 1
    crowd = np.tile(base, (50, 1))
    pair = np.array([with_ten, with_six])
    both = np.vstack([crowd, pair])
    score = extreme_score(both, np.zeros(len(both), dtype=int))
    naive = naive_mean(both)
    assert score[-2] - score[-1] > naive[-2] - naive[-1] > 0  # the rare 10 moves the score more than in the naive mean
    assert 1 <= score.min() and score.max() <= 10


def test_rank_comparison_agrees_with_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    scores = {"naive": a, "bayes": a + rng.normal(scale=0.3, size=500), "lcb": -a, "extreme": a.copy()}
    names, rho = spearman_matrix(scores)
    assert rho[names.index("naive"), names.index("bayes")] == pytest.approx(spearmanr(a, scores["bayes"]).statistic)
    assert rho[names.index("naive"), names.index("lcb")] == pytest.approx(-1.0)
    assert top_k_overlap(a, a.copy(), 50) == 1.0
    assert top_k_overlap(a, -a, 50) == 0.0
    rows, _, _ = rerank_table(scores, (10, 100))
    by_name = {row[0]: row for row in rows}
    assert by_name["extreme"][1:4] == [pytest.approx(1.0), 1.0, 1.0]
    assert by_name["lcb"][2] == 0.0
    expected_overlap = len(set(np.argsort(-a)[:100]) & set(np.argsort(-scores["bayes"])[:100])) / 100
    assert by_name["bayes"][3] == pytest.approx(expected_overlap)


def test_compute_scores_on_real_rows_keeps_every_score_on_the_rating_scale(plain_rows):
    counts = np.array([r[2:12] for r in plain_rows])
    result = compute_scores(counts, np.array([r[14] for r in plain_rows]))
    for name, values in result.scores.items():
        assert values.shape == (len(plain_rows),), name
        assert np.all((values >= 1) & (values <= 10)), name
    assert result.prior_votes > 0
    assert np.all(result.scores["lcb"] <= result.scores["naive"])
