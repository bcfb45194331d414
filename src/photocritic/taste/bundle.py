"""A fitted taste model as a model bundle, so every command can score with it."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from photocritic.models.heads import N_BINS
from photocritic.models.zoo import save_bundle


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
    w, b = taste.linear_weights()
    # the tensors of a LogisticScoreHead, written without torch (fitting taste needs no gradients)
    head = {"weight": np.asarray(w, dtype=np.float32), "bias": np.asarray(b, dtype=np.float32).reshape(()),
            "ratings": np.arange(1, N_BINS + 1, dtype=np.float32)}
    card = card or (
        f"# {config['name']}\n\nA personal taste model: logistic regression on the backbone's features, the technical "
        f"measures and the `{base}` model's score, fitted on {taste.n_labels_} of one person's keep/reject labels. "
        f"Cross-validated AUC while fitting: {taste.cv_auc_:.3f}. It measures resemblance to that person's past picks, "
        "nothing more.\n"
    )
    return save_bundle(folder, config, head, card)
