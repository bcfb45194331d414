"""Training on your own folders and CSVs: splits that keep the classes' shares and are big enough to
say something, texts that fit the labels, and a clear word when the images are not where AVA's ids say."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from photocritic.evaluation.grids import tile_label
from photocritic.evaluation.report import json_safe, report_markdown
from photocritic.training.datasets import load_good_bad, load_ratings_csv, stratified_splits


def _folders(root, good: int, bad: int):
    for sub, n in (("good", good), ("bad", bad)):
        (root / sub).mkdir(parents=True)
        for i in range(n):
            (root / sub / f"{sub}-{i:03d}.jpg").write_bytes(b"")  # the loader lists files; decoding comes later
    return root


def test_41_good_bad_photos_get_a_stratified_test_part_of_at_least_ten(tmp_path):
    data = load_good_bad(_folders(tmp_path / "gb", 17, 24))
    share = data.good.mean()
    for part, smallest in (("test", 10), ("val", 8)):
        mask = data.split == part
        assert mask.sum() >= smallest, (part, mask.sum())
        assert abs(data.good[mask].sum() - share * mask.sum()) <= 1, part  # within one photo of the overall share
    assert (data.split == "train").sum() >= 20


def test_large_sets_keep_the_asked_fractions_and_every_seed_is_stratified(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.random(2000) < 0.3
    for seed in range(3):
        split = stratified_splits(labels, 0.1, 0.1, seed)
        for part in ("val", "test"):
            mask = split == part
            assert 190 <= mask.sum() <= 210
            assert abs(labels[mask].mean() - labels.mean()) < 0.01


def test_groups_never_straddle_parts(tmp_path):
    strata = np.array([0, 1] * 50)
    groups = np.repeat(np.arange(50), 2)
    split = stratified_splits(strata, 0.1, 0.2, 0, groups=groups)
    for g in range(50):
        assert len(set(split[groups == g])) == 1


def test_csv_ratings_are_stratified_by_rating_band(tmp_path):
    rows = ["path,mean"]
    means = np.linspace(2, 9, 120)
    for i, mean in enumerate(means):
        (tmp_path / f"{i}.jpg").write_bytes(b"")
        rows.append(f"{i}.jpg,{mean:.3f}")
    (tmp_path / "ratings.csv").write_text("\n".join(rows) + "\n")
    data = load_ratings_csv(tmp_path / "ratings.csv")
    test = data.means[data.split == "test"]
    assert test.size >= 20
    assert test.min() < 3.8 and test.max() > 7.2  # low and high photos both held out, not a lucky middle


def _evaluation(kind: str, n: int = 12) -> dict:
    nan = float("nan")
    figures = dict(n=n, accuracy=0.75, auc=0.8, srcc=nan if kind == "good/bad" else 0.5, plcc=nan if kind == "good/bad" else 0.5,
                   mae=nan if kind == "good/bad" else 0.6, mse=nan if kind == "good/bad" else 0.5, emd=nan)
    ci = {m: ((0.5, 0.9) if np.isfinite(v) else (nan, nan)) for m, v in figures.items() if m != "n"}
    base = {"training mean": {**figures, "srcc": nan, "auc": 0.5}, "majority class": {**figures, "auc": 0.5, "class": "bad"}}
    return {"n": n, "model": figures, "ci95": ci, "baselines": base, "positive_share": 0.4, "kind": kind, "threshold": 5.0}


def test_good_bad_report_speaks_of_classes_not_ratings():
    text = report_markdown(_evaluation("good/bad"), "test split")
    assert "mean rating > 5" not in text and "mean > 5" not in text
    assert "THEIRS" not in text and "Talebi" not in text and "AVA" not in text
    assert "training mean" not in text and "| srcc |" not in text
    assert "| auc |" in text and "majority class" in text and "Only 12 photos were held out" in text
    ava = report_markdown(_evaluation("ava", n=500), "test split")
    assert "mean rating > 5" in ava and "THEIRS" in ava and "| srcc |" in ava and "Only" not in ava


def test_json_of_undefined_figures_is_valid_json():
    text = json.dumps(json_safe(_evaluation("good/bad")))
    parsed = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert parsed["model"]["srcc"] is None and parsed["model"]["auc"] == 0.8


def test_grid_tiles_say_which_number_is_predicted_and_which_is_true():
    assert tile_label(0, np.array([7.391]), np.array([6.244]), None) == "pred 7.39\ntrue 6.24"
    assert tile_label(0, np.array([3.0]), None, np.array([True])) == "pred 3.00\ntrue good"


def test_ava_images_folder_without_the_ids_says_what_it_looked_for_and_leaves_no_run(tmp_path, shared_data):
    (tmp_path / "AVA.txt").write_text("".join(f"{i} {953600 + i} {' '.join(['10'] * 10)} 0 0 1\n" for i in range(1, 6)))
    photos = shared_data / "photos"  # holds camera-named photos, not <id>.jpg
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(tmp_path / "c.sqlite")}
    result = subprocess.run([sys.executable, "-m", "photocritic", "train", str(tmp_path / "runs" / "x"), "--ava",
                             str(tmp_path / "AVA.txt"), "--images", str(photos), "-q"], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "none of the 5 AVA images" in result.stderr and "<image id>.jpg (e.g. 953601.jpg)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_run_with_nothing_usable_leaves_no_folder(tmp_path, feature_cache_dir):
    from photocritic.training.config import TrainConfig
    from photocritic.training.run import train_run

    root = tmp_path / "gb"
    for sub in ("good", "bad"):
        (root / sub).mkdir(parents=True)
        for i in range(4):
            (root / sub / f"{i}.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(ValueError, match="usable training photos"):
        train_run(load_good_bad(root), TrainConfig(head="binary", epochs=1), tmp_path / "run", feature_cache_dir, n_boot=10)
    assert not (tmp_path / "run").exists()
