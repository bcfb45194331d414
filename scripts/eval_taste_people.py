"""Reproduce the personal-taste figures in docs/taste.md.

    python scripts/eval_taste_people.py [--data ../shared/data] [--out docs/images]

The simulated user keeps photos in which a person is clearly visible, a rule applied by eye to the 185
photos of ../shared/data/photos/ and written down in tests/taste/data/people_in_photos.csv.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from photocritic.taste import PhotoFeatures, TasteModel
from photocritic.taste.report import evaluate_taste, write_report

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    rows = list(csv.DictReader((ROOT / "tests" / "taste" / "data" / "people_in_photos.csv").open()))
    paths = [str(Path(args.data) / "photos" / row["file"]) for row in rows]
    y = np.array([int(row["people"]) for row in rows])
    with tempfile.TemporaryDirectory() as tmp:
        X, ok = PhotoFeatures(catalog=Path(tmp) / "catalog.sqlite")(paths)
        assert ok.all()
        aucs = []
        for seed in range(args.repeats):
            order = np.random.default_rng(seed).permutation(len(y))
            train, test = order[:100], order[100:]
            p = TasteModel(random_state=seed).fit(X[train], y[train]).predict_proba(X[test])[:, 1]
            aucs.append(roc_auc_score(y[test], p))
        report = evaluate_taste(X, y, paths)
        page = write_report(report, Path(tmp) / "report")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(page.parent / "learning_curve.png", out / "taste-learning-curve.png")
    figures = {
        "photos": len(y),
        "with_people": int(y.sum()),
        "heldout_auc_from_100_labels_mean": round(float(np.mean(aucs)), 3),
        "heldout_auc_from_100_labels_min": round(float(np.min(aucs)), 3),
        "heldout_auc_from_100_labels_max": round(float(np.max(aucs)), 3),
        "repeats": args.repeats,
        "cv_auc_all_labels": round(report.cv_auc, 3),
        "cv_auc_ci": [round(v, 3) for v in report.cv_auc_ci],
        "cv_accuracy": round(report.cv_accuracy, 3),
        "majority_accuracy": round(report.majority_accuracy, 3),
        "learning_curve": [{k: round(v, 3) if isinstance(v, float) else v for k, v in c.items()} for c in report.learning_curve],
        "measures_top3": report.measures[:3],
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
