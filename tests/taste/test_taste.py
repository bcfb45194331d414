"""Personal taste, learned from a simulated user whose picks follow a visible property.

The property: "a person is clearly visible" (face or most of the body), judged by eye for each of the
185 photos in ../shared/data/photos/ and written down in data/people_in_photos.csv (51 with people).
The labels come from that written rule, not from any model of ours.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from photocritic.models.zoo import ModelError
from photocritic.scoring import Scorer
from photocritic.taste import PhotoFeatures, TasteModel, labels_from_csv, labels_from_folders
from photocritic.taste.labels import stars_to_keep

LABELS = Path(__file__).parent / "data" / "people_in_photos.csv"


@pytest.fixture(scope="module")
def people(shared_data, tmp_path_factory):
    """(paths, y, X, catalog): every photo scored once into a module-wide catalog."""
    rows = list(csv.DictReader(LABELS.open()))
    paths = [str(shared_data / "photos" / row["file"]) for row in rows]
    y = np.array([int(row["people"]) for row in rows])
    catalog = tmp_path_factory.mktemp("taste") / "catalog.sqlite"
    X, ok = PhotoFeatures(catalog=catalog)(paths)
    assert ok.all()
    return paths, y, X, catalog


def test_learns_a_visible_preference_from_100_labels(people):
    paths, y, X, _ = people
    aucs = []
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(y))
        train, test = order[:100], order[100:]
        model = TasteModel(random_state=seed).fit(X[train], y[train])
        aucs.append(roc_auc_score(y[test], model.predict_proba(X[test])[:, 1]))
    print("held-out AUC from 100 labels:", np.round(aucs, 3))
    assert min(aucs) > 0.8  # chance is 0.5; the goal is 0.85 on average
    assert np.mean(aucs) >= 0.85


def test_shuffled_labels_learn_nothing(people):
    """The same pipeline on labels with the link to the photos broken: no better than chance."""
    _, y, X, _ = people
    shuffled = np.random.default_rng(7).permutation(y)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:100], order[100:]
    auc = roc_auc_score(shuffled[test], TasteModel().fit(X[train], shuffled[train]).predict_proba(X[test])[:, 1])
    assert 0.3 < auc < 0.7


def test_behaves_like_a_scikit_learn_estimator(people, tmp_path):
    paths, y, X, catalog = people
    model = TasteModel(catalog=catalog)
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    subset = list(range(0, 185, 3))
    model.fit([paths[i] for i in subset], y[subset])  # paths in, features from the catalog
    accuracy = model.score(X[subset], y[subset])
    assert 0.5 < accuracy <= 1.0
    assert set(np.unique(model.predict(X[:20]))) <= {0, 1}
    p = model.predict_proba([paths[i] for i in range(1, 30, 3)])
    assert p.shape == (10, 2) and np.allclose(p.sum(axis=1), 1)


def test_bundle_scores_like_the_estimator_and_blends(people, tmp_path):
    paths, y, X, catalog = people
    model = TasteModel(catalog=catalog).fit(X[:100], y[:100])
    bundle = model.save(tmp_path / "mine")
    blended = model.save(tmp_path / "mine-half", blend=0.5)
    held_out = paths[100:130]
    p = model.predict_proba(X[100:130])[:, 1]

    def scores(model_dir):
        scorer = Scorer(model_dir, catalog=catalog)
        records = list(scorer.iter_records(held_out))
        assert scorer.stats.decoded == 0  # features come from the catalog
        return np.array([r["score"] for r in records])

    mine = scores(bundle)
    # the bundle's score is a monotone function of the keep probability
    order = np.argsort(p)
    assert np.all(np.diff(mine[order]) >= -1e-3)
    default = scores("default")
    half = scores(blended)
    assert np.allclose(half, 0.5 * mine + 0.5 * default, atol=2e-3)


def test_folder_and_csv_labels(shared_data, tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    photos = sorted((shared_data / "photos").glob("*.jpg"))[:6]
    for i, photo in enumerate(photos):
        shutil.copy(photo, (good if i % 2 else bad) / photo.name)
    labels = labels_from_folders(good, bad)
    assert sorted(labels.y) == [0, 0, 0, 1, 1, 1]
    table = tmp_path / "labels.csv"
    table.write_text(
        "path,label\n"
        f"good/{photos[1].name},keep\n"
        f"bad/{photos[0].name},reject\n"
        "missing.jpg,keep\n"
        f"good/{photos[3].name},maybe\n"
    )
    from_csv = labels_from_csv(table)
    assert [label.keep for label in from_csv.labels] == [True, False]
    reasons = " ".join(why for _, why in from_csv.skipped)
    assert "line 4: file not found" in reasons and "line 5" in reasons


def test_star_thresholds():
    assert stars_to_keep(5) is True and stars_to_keep(3) is True
    assert stars_to_keep(2) is False and stars_to_keep(-1) is False
    assert stars_to_keep(0) is None and stars_to_keep(None) is None
    assert stars_to_keep(3, threshold=4) is False


def _exiftool() -> str:
    path = shutil.which("exiftool")
    if not path:
        if os.environ.get("CI") == "true":
            pytest.fail("exiftool is missing under CI")
        pytest.skip("exiftool not installed")
    return path


def test_xmp_star_ratings_give_the_same_model_as_folders(people, tmp_path):
    """Ratings written by exiftool into sidecars and into the photos themselves = the same labels as folders."""
    from photocritic.taste import labels_from_ratings

    exiftool = _exiftool()
    paths, y, X, catalog = people
    chosen = list(range(0, 185, 4))  # 47 photos, both kinds
    good, bad, rated = tmp_path / "good", tmp_path / "bad", tmp_path / "rated"
    for folder in (good, bad, rated):
        folder.mkdir()
    for n, i in enumerate(chosen):
        source = Path(paths[i])
        shutil.copy2(source, (good if y[i] else bad) / source.name)
        target = rated / source.name
        shutil.copy2(source, target)
        stars = "4" if y[i] else "1"
        if n % 2:  # half as sidecars (IMG.xmp), half embedded in the file
            subprocess.run([exiftool, "-q", f"-XMP-xmp:Rating={stars}", "-o", str(target.with_suffix(".xmp")), str(target)], check=True)
        else:
            subprocess.run([exiftool, "-q", "-overwrite_original", f"-XMP-xmp:Rating={stars}", str(target)], check=True)
    from_folders = labels_from_folders(good, bad)
    from_ratings = labels_from_ratings([rated], threshold=3)
    assert len(from_ratings.labels) == len(chosen), from_ratings.skipped
    by_name_f = {Path(l.path).name: l.keep for l in from_folders.labels}
    by_name_r = {Path(l.path).name: l.keep for l in from_ratings.labels}
    assert by_name_f == by_name_r

    def fitted(labels):
        ordered = sorted(labels.labels, key=lambda l: Path(l.path).name)
        return TasteModel(catalog=catalog).fit([l.path for l in ordered], [int(l.keep) for l in ordered])

    a, b = fitted(from_folders), fitted(from_ratings)
    probe = X[1:185:4]
    assert np.allclose(a.predict_proba(probe), b.predict_proba(probe), atol=1e-6)


def test_heatmap_for_learned_models_only(people, tmp_path, shared_data):
    from photocritic.models.saliency import score_heatmap
    from photocritic.models.zoo import save_bundle
    from photocritic.models.heads import DistributionHead
    from photocritic.models.technical import TECHNICAL_MEASURES

    paths, y, X, catalog = people
    bundle = TasteModel(catalog=catalog).fit(X, y).save(tmp_path / "people")
    photo = shared_data / "photos" / "Canon EOS 7D.jpg"
    heat, pixels, score = score_heatmap(photo, bundle)
    assert heat.shape == pixels.shape[:2] and -1 <= heat.min() and np.abs(heat).max() == pytest.approx(1.0, abs=1e-2)
    assert heat.std() > 0.05  # it points somewhere, not everywhere
    technical_only = save_bundle(
        tmp_path / "tech", {"name": "tech", "inputs": ["technical"], "head": {}}, DistributionHead(len(TECHNICAL_MEASURES)), ""
    )
    with pytest.raises(ModelError):
        score_heatmap(photo, technical_only)


def test_cli_fit_report_and_explain(shared_data, tmp_path):
    rows = list(csv.DictReader(LABELS.open()))[:60]
    table = tmp_path / "labels.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label"])
        for row in rows:
            writer.writerow([str(shared_data / "photos" / row["file"]), "keep" if row["people"] == "1" else "reject"])
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(tmp_path / "c.sqlite")}
    run = subprocess.run(
        [sys.executable, "-m", "photocritic", "taste", "fit", "--csv", str(table), "-o", str(tmp_path / "m"), "--report", str(tmp_path / "r")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    for stage in ("features of 60 photos", "fitting", "report: cross-validating", "report: learning curve"):
        assert stage in run.stderr  # --report takes minutes: it says what it is doing
    summary = json.loads(run.stdout)
    assert summary["labels"] == 60 and summary["kept"] == sum(r["people"] == "1" for r in rows)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["majority_accuracy"] == pytest.approx(max(summary["kept"], 60 - summary["kept"]) / 60)
    assert report["cv_auc_ci"][0] <= report["cv_auc"] <= report["cv_auc_ci"][1]
    assert (tmp_path / "r" / "learning_curve.png").stat().st_size > 1000
    explain = subprocess.run(
        [sys.executable, "-m", "photocritic", "taste", "explain", str(shared_data / "photos" / rows[0]["file"]), "-m", str(tmp_path / "m"), "-o", str(tmp_path / "h")],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert explain.returncode == 0, explain.stderr
    assert Path(json.loads(explain.stdout)["heatmap"]).is_file()


def test_cli_warns_that_eight_labels_are_too_few(shared_data, tmp_path):
    photos = sorted((shared_data / "photos").glob("*.jpg"))[:8]
    table = tmp_path / "labels.csv"
    table.write_text("path,label\n" + "".join(f"{p},{'keep' if i % 2 else 'reject'}\n" for i, p in enumerate(photos)))
    env = {**os.environ, "PHOTOCRITIC_CATALOG": str(tmp_path / "c.sqlite")}
    run = subprocess.run([sys.executable, "-m", "photocritic", "taste", "fit", "--csv", str(table), "-o", str(tmp_path / "m")],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    warning = [line for line in run.stderr.splitlines() if line.startswith("photocritic: warning:")]
    assert len(warning) == 1 and "8 labels (4 kept, 4 not) are too few" in warning[0]
