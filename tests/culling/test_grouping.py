"""Grouping on synthetic embeddings: time neighbours, visual neighbours (exact and FAISS), union-find guard."""
from __future__ import annotations

import numpy as np
import pytest

from photocritic.culling.grouping import GroupingConfig, group_bursts, parse_time, time_neighbours


def clusters(n_clusters=60, size=4, dim=64, noise=0.15, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    vectors = np.repeat(centres, size, axis=0) + noise * rng.normal(size=(n_clusters * size, dim))
    truth = np.repeat(np.arange(n_clusters), size)
    return vectors.astype(np.float32), truth


def same_partition(a, b):
    pairs_a = {(i, j) for i in range(len(a)) for j in range(i + 1, len(a)) if a[i] == a[j]}
    pairs_b = {(i, j) for i in range(len(b)) for j in range(i + 1, len(b)) if b[i] == b[j]}
    return pairs_a == pairs_b


def test_clusters_are_found_exactly_and_with_the_faiss_index():
    vectors, truth = clusters()
    exact = group_bursts(vectors)
    approximate = group_bursts(vectors, exact_limit=10)  # forces the IVF index path
    assert same_partition(exact, truth)
    assert same_partition(approximate, truth)


def test_without_faiss_large_sets_are_searched_exactly_and_say_so_once(monkeypatch, capsys):
    import photocritic.culling.grouping as grouping

    monkeypatch.setitem(__import__("sys").modules, "faiss", None)  # as if the [large] extra were absent
    monkeypatch.setattr(grouping, "_warned_without_faiss", False)
    vectors, truth = clusters(dim=200)  # above the 128-d projection
    assert same_partition(group_bursts(vectors, exact_limit=10), truth)
    group_bursts(vectors, exact_limit=10)
    err = capsys.readouterr().err
    assert err.count("no faiss") == 1 and 'photocritic[large]' in err


def test_capture_time_lowers_the_bar_for_one_camera_only():
    a = np.array([1.0, 0.0, 0.0], np.float32)
    b = np.array([0.6, 0.8, 0.0], np.float32)  # cosine 0.6: below `similarity`, above `time_similarity`
    pair = np.stack([a, b])
    assert group_bursts(pair, [0.0, 1.0], ["cam", "cam"])[0] == group_bursts(pair, [0.0, 1.0], ["cam", "cam"])[1]
    labels = group_bursts(pair, [0.0, 1.0], ["cam", "other cam"])
    assert labels[0] != labels[1]
    labels = group_bursts(pair, [0.0, 60.0], ["cam", "cam"])  # a minute apart
    assert labels[0] != labels[1]
    labels = group_bursts(pair, None, None)  # no EXIF at all: visual similarity alone
    assert labels[0] != labels[1]


def test_a_perceptual_hash_confirms_borderline_pairs():
    pair = np.stack([np.array([1.0, 0.0], np.float32), np.array([0.6, 0.8], np.float32)])
    hashes = {0: 0xFFFF0000FFFF0000, 1: 0xFFFF0000FFFF0001}
    labels = group_bursts(pair, hash_of=hashes.get)
    assert labels[0] == labels[1]
    far = {0: 0, 1: (1 << 64) - 1}
    labels = group_bursts(pair, hash_of=far.get)
    assert labels[0] != labels[1]


def test_photos_without_embeddings_stay_alone():
    vectors, _ = clusters(n_clusters=2, size=3)
    vectors[0] = 0
    labels = group_bursts(vectors)
    assert sum(labels == labels[0]) == 1
    assert len(set(labels[3:])) == 1


def test_a_slow_pan_does_not_chain_into_one_giant_group():
    # 40 frames turning a full half circle, 0.5 s apart: neighbours are similar, the ends are opposite
    angles = np.linspace(0, np.pi, 40)
    vectors = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    labels = group_bursts(vectors, [0.5 * i for i in range(40)], ["cam"] * 40)
    assert len(set(labels.tolist())) > 1
    assert labels[0] != labels[-1]  # opposite views are never one group


def test_time_neighbours_follow_each_camera_clock():
    times = [0.0, 0.3, 10.0, 0.2, None]
    cameras = ["a", "a", "a", "b", "a"]
    assert sorted(time_neighbours(times, cameras, gap=1.0, window=5)) == [(0, 1)]


def test_parse_time_keeps_subseconds_and_ignores_time_zones():
    assert parse_time("2024-06-01T09:00:00.350000") - parse_time("2024-06-01T09:00:00") == pytest.approx(0.35)
    assert parse_time("2024-06-01T09:00:00+02:00") == parse_time("2024-06-01T09:00:00")
    assert parse_time(None) is None and parse_time("garbage") is None


def test_thresholds_are_settable():
    pair = np.stack([np.array([1.0, 0.0], np.float32), np.array([0.6, 0.8], np.float32)])
    strict = group_bursts(pair, config=GroupingConfig(similarity=0.9))
    loose = group_bursts(pair, config=GroupingConfig(similarity=0.5))
    assert strict[0] != strict[1] and loose[0] == loose[1]
