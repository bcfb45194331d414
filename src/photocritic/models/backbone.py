"""The backbones photocritic knows, with features pooled from several depths (no torch here).

The networks themselves run through :mod:`photocritic.engine` from graphs exported by
``scripts/export_graphs.py``; their PyTorch definitions (training, fine-tuning, Grad-CAM, export) are in
:mod:`photocritic.models.networks`, whose names this module still offers, importing torch only when one
of them is asked for.

The feature vector is MLSP-style (Hosu et al. 2019): global-average-pooled activations from the end of
every stage plus the 1280-d head, so a small head sees texture and noise (early layers) as well as
composition and content (late layers). The last 1280 values are the embedding used for visual
similarity in culling.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from photocritic.models.backbone_specs import BACKBONES, FINETUNED, BackboneSpec, register_finetuned_backbone  # noqa: F401

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255.0
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255.0


def squash(pixels: np.ndarray, size: int = 224) -> np.ndarray:
    """uint8 HxWx3 -> uint8 size x size x 3: the whole frame, aspect not kept (as NIMA feeds it)."""
    image = Image.fromarray(pixels)
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(image)


def model_input(pixels: np.ndarray, size: int = 224) -> np.ndarray:
    """uint8 HxWx3 -> the backbone's input: ImageNet-normalised float32 3 x size x size (whole frame)."""
    array = (squash(pixels, size).astype(np.float32) - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(array.transpose(2, 0, 1))


#: PyTorch names that used to live here; importing one of them imports torch (PEP 562)
_TORCH_NAMES = frozenset({"EfficientNetLiteFeatures", "MobileNetV2Features", "build_backbone", "load_backbone", "extract_features"})


def __getattr__(name: str):
    if name in _TORCH_NAMES:
        from photocritic.models import networks

        return getattr(networks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
