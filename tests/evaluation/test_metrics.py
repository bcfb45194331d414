"""Metrics, baselines and intervals behave as their definitions say, on cases with known answers."""
from __future__ import annotations

import numpy as np
import pytest

from photocritic.evaluation.metrics import auc, bootstrap_intervals, compute_metrics, emd, naive_baselines
from photocritic.evaluation.published import published_table_markdown


def test_metrics_on_known_cases():
    true = np.array([3.0, 4.0, 5.5, 6.0, 7.0])
    perfect = compute_metrics(true * 2 - 4, true, true > 5)
    assert perfect["srcc"] == pytest.approx(1) and perfect["plcc"] == pytest.approx(1)
    reversed_ = compute_metrics(-true + 10, true, true > 5)
    assert reversed_["srcc"] == pytest.approx(-1) and reversed_["auc"] == 0.0
    assert auc(np.array([1, 2, 3, 4.0]), np.array([0, 0, 1, 1], bool)) == 1.0
    assert auc(np.array([1, 1, 1, 1.0]), np.array([0, 0, 1, 1], bool)) == 0.5
    one_hot = np.eye(10)
    assert emd(one_hot[[0]], one_hot[[0]])[0] == 0 and emd(one_hot[[0]], one_hot[[9]])[0] == pytest.approx(np.sqrt(0.9))


def test_naive_baselines_and_intervals():
    rng = np.random.default_rng(0)
    train = rng.normal(5.4, 0.7, 1000)
    test = rng.normal(5.4, 0.7, 300)
    base = naive_baselines(train, train > 5, None, test, test > 5, None)
    share = np.mean(test > 5)
    assert base["majority class"]["accuracy"] == pytest.approx(share)
    assert np.isnan(base["training mean"]["srcc"]) and base["training mean"]["auc"] == 0.5
    noisy = test + rng.normal(0, 0.5, 300)
    ci = bootstrap_intervals(noisy, test, test > 5, n_boot=200)
    point = compute_metrics(noisy, test, test > 5)
    assert ci["srcc"][0] < point["srcc"] < ci["srcc"][1] and ci["srcc"][1] - ci["srcc"][0] < 0.2


def test_published_table_is_marked_as_theirs():
    table = published_table_markdown()
    assert "THEIRS" in table and "0.510" in table and "80.36%" in table and "0.612" in table and "81.51%" in table
