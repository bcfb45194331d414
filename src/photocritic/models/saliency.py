"""What does a model look at? Grad-CAM (Selvaraju et al. 2017) for any model that reads backbone features.

The score (the distribution's mean) is differentiated with respect to the backbone's last
convolutional map (1280 x 7 x 7 for a 224 input); channels are weighted by their mean gradient and
summed, keeping the positive part: the regions that raise the score. The technical measures enter
the head as constants, so the map shows only what the learned features contribute.

Gradients need PyTorch: this is the one scoring-side feature that stays torch-only
(``pip install "photocritic[train]"``).
"""
from __future__ import annotations

import os

import numpy as np
import torch
from matplotlib import colormaps
from PIL import Image

from photocritic.imaging import decode_for_model
from photocritic.models.backbone import model_input
from photocritic.models.networks import load_backbone
from photocritic.models.technical import measures_vector, technical_measures
from photocritic.models.zoo import ModelError, ScoringModel, load_model


def _score_from_features(model: ScoringModel, features: torch.Tensor, technical: np.ndarray) -> torch.Tensor:
    """The model's mean score as a differentiable function of the backbone features."""
    parts = []
    tech = torch.from_numpy(technical[None].astype(np.float32))
    for group in model.inputs:
        if group == "mlsp":
            parts.append(features)
        elif group == "technical":
            parts.append(tech)
        elif group == "base_score":
            parts.append(_score_from_features(model.base, features, technical)[:, None])
    probs = torch.softmax(model.torch_head()(torch.cat(parts, dim=1)), dim=-1)
    weight = float(model.config.get("blend", {}).get("weight", 0.0))
    ratings = torch.arange(1, probs.shape[1] + 1, dtype=probs.dtype)
    score = probs @ ratings
    if weight > 0:
        score = (1 - weight) * score + weight * _score_from_features(model.base, features, technical)
    return score


def score_heatmap(path: str | os.PathLike, model: str | ScoringModel = "default") -> tuple[np.ndarray, np.ndarray, float]:
    """(heat map in 0..1 at the photo's working size, the photo's pixels, the score)."""
    model = load_model(model)
    if not model.needs_backbone:
        raise ModelError(f"model {model.name!r} reads no backbone features, so there is nothing to map")
    decoded = decode_for_model(path)
    backbone = load_backbone(model.backbone)
    net = backbone.net
    # the backbone is frozen; asking for the input gradient makes autograd record the graph
    x = torch.from_numpy(model_input(decoded.pixels, backbone.spec.input_size)[None]).requires_grad_(True)
    technical = measures_vector(technical_measures(decoded.pixels))
    ends = set(backbone.spec.stage_ends)
    with torch.enable_grad():
        h = net._swish(net._bn0(net._conv_stem(x)))
        pooled = []
        for index, block in enumerate(net._blocks):
            h = block(h)
            if index in ends:
                pooled.append(h.mean(dim=(2, 3)))
        last = net._swish(net._bn1(net._conv_head(h)))
        last.retain_grad()
        pooled.append(last.mean(dim=(2, 3)))
        score = _score_from_features(model, torch.cat(pooled, dim=1), technical)
        score.sum().backward()
    weights = last.grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * last).sum(dim=1))[0].detach().numpy()
    if cam.max() > 0:
        cam = cam / cam.max()
    height, width = decoded.pixels.shape[:2]
    heat = np.asarray(Image.fromarray((cam * 255).astype(np.uint8)).resize((width, height), Image.Resampling.BICUBIC))
    return heat.astype(np.float32) / 255.0, decoded.pixels, float(score.item())


def overlay(pixels: np.ndarray, heat: np.ndarray, alpha: float = 0.45) -> Image.Image:
    """The photo with the heat map laid over it in the 'inferno' colour map."""
    coloured = colormaps["inferno"](heat)[..., :3] * 255.0
    blended = (1 - alpha * heat[..., None]) * pixels.astype(np.float32) + alpha * heat[..., None] * coloured
    return Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))
