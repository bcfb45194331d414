"""A real learning check: pristine photos vs the same photos damaged (noise, blur, JPEG blocks), as
good/bad folders. Held-out AUC must clearly beat the naive baseline (a constant: AUC 0.5); the
measured figures are printed (run with -s to see them) and written to the run folder."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from photocritic.imaging import decode_for_model
from photocritic.training.config import TrainConfig
from photocritic.training.datasets import load_good_bad
from photocritic.training.degradations import damage_at, seed_for
from photocritic.training.run import train_run

DAMAGES = ("defocus", "noise", "jpeg")


def test_pristine_vs_degraded_is_learned(shared_photos, tmp_path, feature_cache_dir):
    root = tmp_path / "pristine-vs-degraded"
    (root / "good").mkdir(parents=True)
    (root / "bad").mkdir()
    for i, photo in enumerate(shared_photos[40:76]):
        pixels = decode_for_model(photo).pixels
        Image.fromarray(pixels).save(root / "good" / f"{i:03d}.jpg", quality=95)
        damaged = damage_at(pixels, DAMAGES[i % 3], 2, seed=seed_for(photo.name))
        Image.fromarray(damaged).save(root / "bad" / f"{i:03d}.jpg", quality=95)
    data = load_good_bad(root, val_fraction=0.15, test_fraction=0.3, seed=1)
    config = TrainConfig(head="binary", epochs=30, batch_size=16, lr=3e-3, dropout=0.5, weight_decay=1e-2, patience=0)
    result = train_run(data, config, tmp_path / "run", feature_cache_dir, n_boot=200, classic=True)
    test = result.metrics["test"]
    low, high = result.metrics["test_ci95"]["auc"]
    print(f"\npristine vs degraded, {result.metrics['counts']}: held-out AUC {test['auc']:.3f} (95% CI {low:.3f}..{high:.3f}), "
          f"accuracy {test['accuracy']:.3f}, majority-class accuracy {result.metrics['baselines']['majority class']['accuracy']:.3f}; "
          f"classic: {({k: round(v['auc'], 3) for k, v in result.metrics['classic'].items()})}")
    # a photo and its damaged copy share a split, so content cannot leak between train and test
    test_paths = [p for p, s in zip(data.paths, data.split) if s == "test"]
    names = {p.rsplit("/", 1)[-1] for p in test_paths}
    assert all(s == "test" for p, s in zip(data.paths, data.split) if p.rsplit("/", 1)[-1] in names)
    assert result.metrics["baselines"]["training mean"]["auc"] == 0.5
    assert test["auc"] > 0.75 and low > 0.5
    assert test["accuracy"] > result.metrics["baselines"]["majority class"]["accuracy"] + 0.1
    # good/bad folders: the report speaks of classes (no AVA table, no "mean > 5", no rating correlations)
    report = (tmp_path / "run" / "evaluation-test.md").read_text()
    assert "THEIRS" not in report and "mean rating >" not in report and "| srcc |" not in report
    assert "from the good folder" in report
    card = (tmp_path / "run" / "model" / "MODEL_CARD.md").read_text()
    assert "good = the good/ folder" in card and "mean >" not in card and "| srcc |" not in card and "| auc |" in card
    json.loads((tmp_path / "run" / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in metrics.json"))
