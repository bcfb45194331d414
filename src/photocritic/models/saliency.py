"""What does a model look at? Grad-CAM (Selvaraju et al. 2017) for any model that reads backbone features.

The score (the distribution's mean) is differentiated with respect to the backbone's last
convolutional map (1280 x 7 x 7 for a 224 input); channels are weighted by their mean gradient and
summed, both signs kept: the regions that raise the score and those that lower it, scaled together so
the strongest is 1 (a photo scored low is mostly what lowers it: keeping only the positive part left
such maps almost or entirely empty). The technical measures enter the head as constants, so the map
shows only what the learned features contribute.

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
    """(heat map in -1..1 at the photo's working size: positive where the score comes from, negative where
    it is lost, the strongest region at +-1; the photo's pixels; the score)."""
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
    cam = (weights * last).sum(dim=1)[0].detach().numpy().astype(np.float32)
    peak = float(np.abs(cam).max())
    if peak > 0:
        cam = cam / peak
    height, width = decoded.pixels.shape[:2]
    heat = np.asarray(Image.fromarray(cam, mode="F").resize((width, height), Image.Resampling.BICUBIC))
    return np.clip(heat, -1.0, 1.0), decoded.pixels, float(score.item())


#: Diverging: blue where the score is lost, red where it comes from, no colour where neither.
COLOUR_MAP = "RdBu_r"


def overlay(pixels: np.ndarray, heat: np.ndarray, alpha: float = 0.6) -> Image.Image:
    """The photo with the signed heat map (:func:`score_heatmap`) laid over it, and its colour scale below."""
    cmap = colormaps[COLOUR_MAP]
    coloured = cmap((heat + 1.0) / 2.0)[..., :3] * 255.0
    weight = alpha * np.abs(heat)[..., None]
    blended = (1 - weight) * pixels.astype(np.float32) + weight * coloured
    photo = Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))
    return _with_scale(photo, cmap)


def _with_scale(photo: Image.Image, cmap) -> Image.Image:
    """*photo* over a strip that reads the colours: the gradient, and what each end means."""
    from PIL import ImageDraw

    width, height = photo.size
    bar = max(10, height // 40)
    strip = max(bar + 18, height // 14)
    out = Image.new("RGB", (width, height + strip), (255, 255, 255))
    out.paste(photo, (0, 0))
    ramp = (cmap(np.linspace(0.0, 1.0, width))[:, :3] * 255).astype(np.uint8)
    out.paste(Image.fromarray(np.repeat(ramp[None], bar, axis=0)), (0, height + 2))
    draw = ImageDraw.Draw(out)
    # the longest labels that fit side by side
    for left, right in (("lowers the score", "raises the score"), ("lowers", "raises"), ("-", "+")):
        if draw.textlength(left) + draw.textlength(right) + 16 <= width:
            break
    draw.text((4, height + bar + 4), left, fill=(0, 0, 0))
    draw.text((width - 4 - draw.textlength(right), height + bar + 4), right, fill=(0, 0, 0))
    return out
