"""What a training run is asked to do: one JSON-serialisable config, written into every run folder."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

HEAD_KINDS = ("distribution", "regression", "binary")
BINARY_RULES = ("threshold", "top_bottom")
SAMPLING = ("none", "under", "over")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class TrainConfig:
    """Every knob of ``photocritic train``; defaults follow NIMA (Talebi & Milanfar 2018) where it says."""

    head: str = "distribution"  # distribution + EMD (NIMA) | regression of the mean + MSE | binary + cross-entropy
    backbone: str = "efficientnet-lite0"
    hidden: list[int] = field(default_factory=list)  # hidden layers of the head; [] = linear, as NIMA
    dropout: float = 0.75  # NIMA's dropout before the last layer
    batch_norm: bool = False
    binary_rule: str = "threshold"  # threshold: good = mean > threshold; top_bottom: top/bottom fraction only
    threshold: float = 5.0
    top_bottom_fraction: float = 0.2  # seed 001: the top and bottom 20% by mean
    val_fraction: float = 0.1
    test_fraction: float = 0.1  # used only when the dataset has no official test list
    seed: int = 0
    # phase 1: the head on frozen features cached on disk
    epochs: int = 20
    lr: float = 3e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    patience: int = 5  # early stopping: epochs without a better validation loss
    sampling: str = "none"  # under- or over-sampling across rating bins (or classes, for binary)
    class_weights: bool = False
    # phase 2: the whole net, lower learning rate, augmentation (resize, random crop, flip)
    finetune_epochs: int = 0
    finetune_lr: float = 3e-5
    finetune_batch_size: int = 16
    resize: int = 256
    crop: int = 224
    double_column: bool = False  # seed 004: a global (resized) and a local (random crop) view
    device: str = "auto"
    amp: bool = True  # mixed precision, on CUDA only
    workers: int = 2

    def validate(self) -> None:
        for name, value, allowed in (("head", self.head, HEAD_KINDS), ("binary_rule", self.binary_rule, BINARY_RULES),
                                     ("sampling", self.sampling, SAMPLING), ("device", self.device, DEVICES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        from photocritic.models.backbone import BACKBONES

        if self.backbone not in BACKBONES:
            raise ValueError(f"unknown backbone {self.backbone!r}; known: {', '.join(sorted(BACKBONES))}")
        if not 0 <= self.val_fraction < 0.9 or not 0 <= self.test_fraction < 0.9:
            raise ValueError("val_fraction and test_fraction must lie in [0, 0.9)")
        if not 0 < self.top_bottom_fraction <= 0.5:
            raise ValueError("top_bottom_fraction must lie in (0, 0.5]")
        if self.crop > self.resize:
            raise ValueError("crop must not exceed resize")
        if self.epochs < 0 or self.finetune_epochs < 0:
            raise ValueError("epochs must not be negative")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> TrainConfig:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def resolve_device(name: str) -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but torch sees no CUDA device")
    return name
