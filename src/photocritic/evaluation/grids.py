"""Top-N and bottom-N grids (seed 001's sanity check): do the best-scored photos look better?"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from photocritic.imaging import PhotoError, open_for_display


def photo_grid(paths: list[str], labels: list[str], out_path: str | Path, thumb: int = 128, columns: int = 10) -> Path:
    """A PNG grid of thumbnails, each with its label below; an unreadable photo shows as a grey tile."""
    rows = max(1, math.ceil(len(paths) / columns))
    cols = min(columns, max(1, len(paths)))
    label_height = 26  # two lines: "pred 7.39" and "true 6.24"
    sheet = Image.new("RGB", (cols * thumb, rows * (thumb + label_height)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (path, label) in enumerate(zip(paths, labels)):
        x, y = (i % cols) * thumb, (i // cols) * (thumb + label_height)
        try:
            image = open_for_display(path, thumb).convert("RGB")
            image.thumbnail((thumb, thumb))
        except (PhotoError, OSError):
            image = Image.new("RGB", (thumb, thumb), (128, 128, 128))
        sheet.paste(image, (x + (thumb - image.width) // 2, y + (thumb - image.height) // 2))
        draw.multiline_text((x + 2, y + thumb), label, fill="black", spacing=1)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path)
    return out_path


def tile_label(i: int, pred_mean: np.ndarray, true_mean: np.ndarray | None, true_good: np.ndarray | None) -> str:
    """What a grid tile says: which number the model predicted, and what the label was."""
    label = f"pred {pred_mean[i]:.2f}"
    if true_mean is not None and np.isfinite(true_mean[i]):
        return label + f"\ntrue {true_mean[i]:.2f}"
    if true_good is not None:
        return label + ("\ntrue good" if true_good[i] else "\ntrue bad")
    return label


def top_bottom_grids(paths: list[str], pred_mean: np.ndarray, true_mean: np.ndarray | None, folder: str | Path,
                     n: int = 100, thumb: int = 96, true_good: np.ndarray | None = None) -> dict[str, Path]:
    """``top{N}_predicted.png``, ``bottom{N}_predicted.png`` and, where true means exist, the same by
    ground truth (``top{N}_truth.png`` ...), N being ``n`` or the split's size if smaller; each tile is
    labelled ``pred 7.39`` over ``true 6.24`` (or ``true good`` / ``true bad`` for good/bad labels)."""
    folder = Path(folder)
    n = min(n, len(paths))
    out = {}
    orderings = {"predicted": np.argsort(-pred_mean, kind="stable")}
    if true_mean is not None and np.isfinite(true_mean).all():
        orderings["truth"] = np.argsort(-true_mean, kind="stable")
    for by, order in orderings.items():
        for end, picked in (("top", order[:n]), ("bottom", order[::-1][:n])):
            labels = [tile_label(i, pred_mean, true_mean, true_good) for i in picked]
            out[f"{end}_{by}"] = photo_grid([paths[i] for i in picked], labels, folder / f"{end}{n}_{by}.png", thumb)
    return out
