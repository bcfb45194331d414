"""Bring Keras NIMA models (idealo image-quality-assessment) over to PyTorch.

idealo's NIMA is Keras' MobileNet v1 (alpha 1, ``include_top=False, pooling='avg'``) followed by
``Dropout`` and ``Dense(10, softmax)``, saved as HDF5 with ``save_weights`` (or ``save``: the same
groups under ``model_weights``). Layer names are Keras': ``conv1``, ``conv1_bn``, then for block k
``conv_dw_k``, ``conv_dw_k_bn``, ``conv_pw_k``, ``conv_pw_k_bn``, and the dense layer (``dense_1``).
:class:`NimaMobileNetV1` reproduces the Keras graph exactly: stride-2 convolutions pad one pixel at the
bottom and right only (Keras' ``ZeroPadding2D(((0, 1), (0, 1)))`` then ``valid``), batch norm with
epsilon 1e-3, ReLU6. Inputs are Keras MobileNet's: RGB scaled to [-1, 1], as N x 3 x H x W.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# (pointwise filters, depthwise stride) for blocks 1..13 of MobileNet v1
MOBILENET_V1_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
                       (512, 1), (512, 1), (1024, 2), (1024, 1))
KERAS_BN_EPSILON = 1e-3


class KerasImportError(ValueError):
    """An HDF5 file that is not in the expected layout."""


class _ConvBN(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, depthwise: bool = False) -> None:
        super().__init__()
        self.stride = stride
        self.kernel = kernel
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=0, groups=c_in if depthwise else 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=KERAS_BN_EPSILON)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel == 3:
            x = F.pad(x, (0, 1, 0, 1)) if self.stride == 2 else F.pad(x, (1, 1, 1, 1))
        return F.relu6(self.bn(self.conv(x)))


class NimaMobileNetV1(nn.Module):
    """MobileNet v1 + dropout + a 10-way softmax: the NIMA model of idealo's image-quality-assessment."""

    def __init__(self, dropout: float = 0.75, n_bins: int = 10) -> None:
        super().__init__()
        layers = [_ConvBN(3, 32, 3, 2)]
        width = 32
        for filters, stride in MOBILENET_V1_BLOCKS:
            layers += [_ConvBN(width, width, 3, stride, depthwise=True), _ConvBN(width, filters, 1, 1)]
            width = filters
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Linear(width, n_bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x 10 probabilities (softmax applied, as the Keras model's output)."""
        pooled = self.features(x).mean(dim=(2, 3))
        return torch.softmax(self.dense(self.dropout(pooled)), dim=-1)

    def keras_layer_names(self) -> list[tuple[str, str]]:
        """(Keras name of the conv, of its batch norm) per conv layer, in order."""
        names = [("conv1", "conv1_bn")]
        for k in range(1, len(MOBILENET_V1_BLOCKS) + 1):
            names += [(f"conv_dw_{k}", f"conv_dw_{k}_bn"), (f"conv_pw_{k}", f"conv_pw_{k}_bn")]
        return names


def _layer_weights(root, name: str) -> dict[str, np.ndarray]:
    if name not in root:
        raise KerasImportError(f"layer {name!r} not found in the HDF5 file")
    group = root[name]
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs.get("weight_names", [])]
    out = {}
    if names:
        for full in names:
            out[full.split("/")[-1].split(":")[0]] = np.asarray(group[full])
    else:  # no attribute: walk the datasets
        group.visititems(lambda key, item: out.__setitem__(key.split("/")[-1].split(":")[0], np.asarray(item))
                         if hasattr(item, "shape") else None)
    return out


def import_idealo_nima(path: str | Path, dropout: float = 0.75) -> NimaMobileNetV1:
    """Read the HDF5 weights at ``path`` into a :class:`NimaMobileNetV1` (eval mode)."""
    import h5py

    model = NimaMobileNetV1(dropout=dropout)
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise KerasImportError(f"{path}: not an HDF5 file ({exc})") from None
    with handle as f:
        root = f["model_weights"] if "model_weights" in f else f
        layer_names = [n.decode() if isinstance(n, bytes) else str(n) for n in root.attrs.get("layer_names", list(root.keys()))]
        dense_names = [n for n in layer_names if n.startswith("dense")]
        if len(dense_names) != 1:
            raise KerasImportError(f"{path}: expected one Dense layer, found {dense_names or 'none'}")
        state = {}
        for index, (conv_name, bn_name) in enumerate(model.keras_layer_names()):
            conv = _layer_weights(root, conv_name)
            kernel = conv.get("depthwise_kernel", conv.get("kernel"))
            if kernel is None:
                raise KerasImportError(f"{conv_name}: no kernel")
            # Keras: H x W x in x out (depthwise: H x W x C x 1); PyTorch: out x in x H x W (depthwise: C x 1 x H x W)
            weight = kernel.transpose(2, 3, 0, 1) if "depthwise_kernel" in conv else kernel.transpose(3, 2, 0, 1)
            bn = _layer_weights(root, bn_name)
            target = model.features[index]
            if tuple(weight.shape) != tuple(target.conv.weight.shape):
                raise KerasImportError(f"{conv_name}: shape {kernel.shape} does not fit MobileNet v1 alpha 1")
            state[f"features.{index}.conv.weight"] = torch.from_numpy(np.ascontiguousarray(weight))
            for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance")):
                state[f"features.{index}.bn.{ours}"] = torch.from_numpy(np.asarray(bn[theirs], dtype=np.float32))
            state[f"features.{index}.bn.num_batches_tracked"] = torch.tensor(0)
        dense = _layer_weights(root, dense_names[0])
        if dense["kernel"].shape != (1024, 10):
            raise KerasImportError(f"{dense_names[0]}: kernel shape {dense['kernel'].shape}, expected (1024, 10)")
        state["dense.weight"] = torch.from_numpy(np.ascontiguousarray(dense["kernel"].T))
        state["dense.bias"] = torch.from_numpy(np.asarray(dense["bias"]))
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model.eval()


def keras_preprocess(pixels: np.ndarray) -> np.ndarray:
    """uint8 H x W x 3 -> 3 x H x W in [-1, 1] (keras.applications.mobilenet.preprocess_input)."""
    return np.ascontiguousarray((pixels.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1))
