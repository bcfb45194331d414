"""A fitted taste model as a model bundle, so every command can score with it."""
from __future__ import annotations

import os
from pathlib import Path

import torch

from photocritic.models.heads import LogisticScoreHead
from photocritic.models.zoo import build_head, save_bundle


def save_taste_bundle(taste, folder: str | os.PathLike, blend: float = 0.0, name: str | None = None, card: str = "") -> Path:
    """Write *taste* (a fitted TasteModel) as a bundle; *blend* is the default model's share (0..1)."""
    if not 0.0 <= blend <= 1.0:
        raise ValueError("blend must be between 0 and 1")
    folder = Path(folder)
    base = taste.base_model
    if base != "default" and Path(base).exists():
        base = os.path.abspath(base)
    config = {
        "name": name or folder.name,
        "description": f"personal taste model fitted on {taste.n_labels_} labelled photos",
        "backbone": "efficientnet-lite0",
        "inputs": ["mlsp", "technical", "base_score"],
        "base_model": base,
        "head": {"type": "logistic", "sigma": 1.5},
        "taste": {"cv_auc": round(taste.cv_auc_, 4), "n_labels": taste.n_labels_, **{k: v for k, v in taste.best_params_.items()}},
    }
    if blend > 0:
        config["blend"] = {"model": base, "weight": blend}
    head: LogisticScoreHead = build_head(config)
    w, b = taste.linear_weights()
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(w, dtype=torch.float32))
        head.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
    card = card or (
        f"# {config['name']}\n\nA personal taste model: logistic regression on the backbone's features, the technical "
        f"measures and the `{base}` model's score, fitted on {taste.n_labels_} of one person's keep/reject labels. "
        f"Cross-validated AUC while fitting: {taste.cv_auc_:.3f}. It measures resemblance to that person's past picks, "
        "nothing more.\n"
    )
    return save_bundle(folder, config, head, card)
