"""The default model's teacher: idealo's NIMA (MobileNet v1 trained on AVA's human votes).

Used at training time only: its distributions over ratings 1..10 for every job are distilled onto
the project's own backbone features, so one backbone runs at scoring time. Its input is idealo's:
the whole frame squashed to 224 x 224 (aspect not kept), pixels scaled to [-1, 1]. We squash the
working pixels (long side 512) with the same resize the backbone's input uses.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from photocritic.training.keras_import import NimaMobileNetV1, import_idealo_nima, keras_preprocess

#: Raised when the teacher's input or weights change, so cached teacher outputs are recomputed.
TEACHER_VERSION = 1
TEACHER_FILE = "weights/idealo-nima-aesthetic/weights_mobilenet_aesthetic_0.07.hdf5"  # under ../shared


def default_teacher_path(data_dir: str | os.PathLike) -> Path:
    """The idealo weights next to the data folder (../shared/data -> ../shared/weights/...)."""
    return Path(data_dir).resolve().parent / TEACHER_FILE


def load_teacher(path: str | os.PathLike) -> NimaMobileNetV1:
    return import_idealo_nima(path)


def teacher_input(pixels: np.ndarray, size: int = 224) -> np.ndarray:
    image = Image.fromarray(pixels)
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return keras_preprocess(np.asarray(image, dtype=np.uint8))


@torch.inference_mode()
def teacher_distributions(model: NimaMobileNetV1, batch: np.ndarray, chunk: int = 32) -> np.ndarray:
    """N x 10 probabilities (float32) for a batch of :func:`teacher_input` arrays."""
    out = [model(torch.from_numpy(np.ascontiguousarray(batch[i : i + chunk]))).numpy() for i in range(0, len(batch), chunk)]
    return np.concatenate(out).astype(np.float32)
