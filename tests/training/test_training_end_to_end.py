"""End to end: an AVA-format set from ../shared/data/photos with invented votes; every head trains two
epochs, a crashed run resumes, the run evaluates, and `photocritic score --model RUN_DIR` loads it."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from photocritic.cli import app
from photocritic.training.config import TrainConfig
from photocritic.training.datasets import load_ava
from photocritic.training.run import ConfigMismatch, train_run

runner = CliRunner()


def _dataset(small_ava):
    return load_ava(small_ava["ava"], small_ava["images"], train_list=small_ava["train_list"],
                    test_list=small_ava["test_list"], val_fraction=0.2, seed=0)


def test_missing_and_corrupt_images_are_reported_and_left_out(small_ava, tmp_path, feature_cache_dir):
    data = _dataset(small_ava)
    missing = small_ava["missing_ids"][0]
    assert any(f"image {missing}" == p.item and "no image file" in p.reason for p in data.problems)
    result = train_run(data, TrainConfig(epochs=1, batch_size=8), tmp_path / "run", feature_cache_dir, n_boot=50)
    corrupt_path = str((small_ava["images"] / f"{small_ava['corrupt_ids'][0]}.jpg").resolve())
    reasons = {p.item: p.reason for p in result.problems}
    assert "corrupt" in reasons[corrupt_path] or "not a recognised image" in reasons[corrupt_path]
    listed = (tmp_path / "run" / "problems.txt").read_text()
    assert corrupt_path in listed and f"image {missing}" in listed
    assert result.metrics["counts"]["left_out"] == 1
    assert sum(result.metrics["counts"][s] for s in ("train", "val", "test")) == 28


@pytest.mark.parametrize("head", ["distribution", "regression", "binary"])
def test_each_head_trains_two_epochs_evaluates_and_scores(head, small_ava, tmp_path, feature_cache_dir):
    run_dir = tmp_path / f"run-{head}"
    config = TrainConfig(head=head, epochs=2, batch_size=8, patience=0, hidden=[32] if head == "regression" else [],
                         batch_norm=head == "regression", sampling="over" if head == "binary" else "none",
                         class_weights=head == "distribution")
    result = train_run(_dataset(small_ava), config, run_dir, feature_cache_dir, n_boot=50, classic=head == "binary")
    for name in ("config.json", "history.csv", "loss.png", "metric.png", "timings.json", "metrics.json", "train_stats.json",
                 "predictions-test.csv", "evaluation-test.md", "model/config.json", "model/weights.safetensors",
                 "model/MODEL_CARD.md", "checkpoints/head/epoch-002.json"):
        assert (run_dir / name).is_file(), name
    n_test = result.metrics["counts"]["test"]  # grids hold min(100, n) photos and say so in their names
    for grid in ("top", "bottom"):
        for by in ("predicted", "truth"):
            assert (run_dir / "grids" / "test" / f"{grid}{n_test}_{by}.png").is_file()
    with open(run_dir / "history.csv") as stream:
        assert [row["epoch"] for row in csv.DictReader(stream)] == ["1", "2"]
    if head == "binary":
        assert set(result.metrics["classic"]) == {"svm", "random_forest"}

    evaluated = runner.invoke(app, ["evaluate", str(run_dir), "--bootstrap", "50", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    figures = json.loads(evaluated.stdout, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert figures["n"] == result.metrics["counts"]["test"]
    assert figures["baselines"]["training mean"]["srcc"] is None  # undefined, written as JSON null
    report = runner.invoke(app, ["evaluate", str(run_dir), "--bootstrap", "50", "--no-grids"])
    assert "THEIRS" in report.stdout and "0.510" in report.stdout and "majority class" in report.stdout

    test_paths = [row["path"] for row in csv.DictReader(open(run_dir / "predictions-test.csv"))]
    scored = runner.invoke(app, ["score", *test_paths, "--model", str(run_dir), "--no-cache", "-f", "jsonl", "-q"])
    assert scored.exit_code == 0, scored.output
    records = [json.loads(line) for line in scored.stdout.splitlines()]
    predicted = {row["path"]: float(row["pred_mean"]) for row in csv.DictReader(open(run_dir / "predictions-test.csv"))}
    for record in records:  # the scoring pipeline reproduces the run's own predictions
        assert record["model"] == run_dir.name
        tolerance = 0.05 if head == "regression" else 1e-3  # regression: a discretised normal's mean, clipped to 1..10
        assert record["score"] == pytest.approx(predicted[record["path"]], abs=tolerance)


def test_crash_after_epoch_one_resumes_to_the_same_end(small_ava, tmp_path, feature_cache_dir):
    data = _dataset(small_ava)
    config = TrainConfig(epochs=4, batch_size=8, patience=0, dropout=0.5, seed=3)
    whole = train_run(data, config, tmp_path / "whole", feature_cache_dir, n_boot=20)

    class Crash(Exception):
        pass

    def crash_after_first(row):
        if row["epoch"] == 1:
            raise Crash

    with pytest.raises(Crash):
        train_run(data, config, tmp_path / "crashed", feature_cache_dir, on_epoch_end=crash_after_first, n_boot=20)
    with pytest.raises(ConfigMismatch):  # a finished-or-started folder is not silently overwritten
        train_run(data, config, tmp_path / "crashed", feature_cache_dir, n_boot=20)
    resumed = train_run(data, config, tmp_path / "crashed", feature_cache_dir, resume=True, n_boot=20)
    assert resumed.resumed_from == 2
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]
    assert [r["train_loss"] for r in resumed.history] == pytest.approx([r["train_loss"] for r in whole.history], rel=1e-6)
    assert resumed.metrics["test"]["emd"] == pytest.approx(whole.metrics["test"]["emd"], rel=1e-6)


def test_fixed_seed_gives_identical_results_and_another_seed_does_not(small_ava, tmp_path, feature_cache_dir):
    data = _dataset(small_ava)
    runs = [train_run(data, TrainConfig(epochs=2, batch_size=8, seed=s, patience=0), tmp_path / f"r{i}", feature_cache_dir, n_boot=20)
            for i, s in enumerate((7, 7, 8))]
    a, b, c = (np.loadtxt(r.run_dir / "predictions-test.csv", delimiter=",", skiprows=1, usecols=1) for r in runs)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_train_cli_runs_and_refuses_bad_usage(small_ava, tmp_path, feature_cache_dir):
    args = ["train", str(tmp_path / "cli-run"), "--ava", str(small_ava["ava"]), "--images", str(small_ava["images"]),
            "--test-list", str(small_ava["test_list"]), "--epochs", "2", "--cache", str(feature_cache_dir), "-q"]
    done = runner.invoke(app, args)
    assert done.exit_code == 1, done.output  # trained, but a corrupt and a missing photo were left out
    assert done.stdout.strip() == str(tmp_path / "cli-run")
    assert "left out" in done.stderr
    assert runner.invoke(app, ["train", str(tmp_path / "x"), "--ava", str(small_ava["ava"])]).exit_code == 2
    assert runner.invoke(app, ["train", str(tmp_path / "x"), "--csv", "a.csv", "--good-bad", "b"]).exit_code == 2
    assert runner.invoke(app, [*args[:-1], "--head", "nonsense"]).exit_code == 2
