"""Phase 2 (the whole net, augmented photos) and the double-column net, briefly: one tiny epoch each."""
from __future__ import annotations

import json

import numpy as np
import torch
from typer.testing import CliRunner

from photocritic.cli import app
from photocritic.training.config import TrainConfig
from photocritic.training.datasets import load_ava
from photocritic.training.finetune import augmented_views
from photocritic.training.run import train_run


def _small(small_ava):
    data = load_ava(small_ava["ava"], small_ava["images"], test_list=small_ava["test_list"], val_fraction=0.2, seed=0)
    keep = np.zeros(len(data), dtype=bool)
    for split, n in (("train", 6), ("val", 2), ("test", 3)):
        keep[np.flatnonzero(data.split == split)[:n]] = True
    return data.subset(keep)


def test_augmentation_crops_flips_and_is_seeded(shared_photos):
    config = TrainConfig(resize=80, crop=64, double_column=True)
    a = augmented_views(str(shared_photos[0]), config, np.random.default_rng(1))
    b = augmented_views(str(shared_photos[0]), config, np.random.default_rng(1))
    c = augmented_views(str(shared_photos[0]), config, np.random.default_rng(2))
    assert a[0].shape == a[1].shape == (3, 64, 64)
    assert np.array_equal(a[0], b[0]) and not np.array_equal(a[0], c[0])


def test_finetune_one_epoch_moves_the_backbone_and_the_bundle_scores(small_ava, tmp_path, feature_cache_dir):
    config = TrainConfig(epochs=1, finetune_epochs=1, finetune_batch_size=3, resize=128, crop=112, batch_size=8)
    result = train_run(_small(small_ava), config, tmp_path / "ft", feature_cache_dir, n_boot=20)
    assert [r["phase"] for r in result.history] == ["head", "finetune"]
    bundle = tmp_path / "ft" / "model"
    assert json.loads((bundle / "config.json").read_text())["backbone_weights"] == "backbone.safetensors"
    from safetensors.torch import load_file

    from photocritic.models.backbone import build_backbone

    tuned = load_file(str(bundle / "backbone.safetensors"))
    frozen = build_backbone(config.backbone).state_dict()
    changed = [k for k, v in tuned.items() if v.is_floating_point() and not torch.equal(v, frozen[k])]
    assert changed, "phase 2 must change backbone weights"
    photo = str(small_ava["images"] / "1000.jpg")
    scored = CliRunner().invoke(app, ["score", photo, "--model", str(tmp_path / "ft"), "--no-cache", "-f", "jsonl", "-q"])
    assert scored.exit_code == 0, scored.output
    assert 1 <= json.loads(scored.stdout)["score"] <= 10


def test_double_column_net_trains_and_keeps_its_network(small_ava, tmp_path, feature_cache_dir):
    config = TrainConfig(epochs=2, double_column=True, crop=224, resize=256, batch_size=8)
    result = train_run(_small(small_ava), config, tmp_path / "dc", feature_cache_dir, n_boot=20)
    assert (tmp_path / "dc" / "network.safetensors").is_file() and not (tmp_path / "dc" / "model").exists()
    assert result.metrics["test"]["n"] == 3 and np.isfinite(result.metrics["test"]["emd"])
