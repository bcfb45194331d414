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
    label_height = 14
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
        draw.text((x + 2, y + thumb), label, fill="black")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path)
    return out_path


def top_bottom_grids(paths: list[str], pred_mean: np.ndarray, true_mean: np.ndarray | None, folder: str | Path,
                     n: int = 100, thumb: int = 96) -> dict[str, Path]:
    """``top{n}_predicted.png``, ``bottom{n}_predicted.png`` and, where true means exist, the same by
    ground truth; each tile labelled ``pred / true``."""
    folder = Path(folder)
    n = min(n, len(paths))
    out = {}
    orderings = {"predicted": np.argsort(-pred_mean, kind="stable")}
    if true_mean is not None and np.isfinite(true_mean).all():
        orderings["truth"] = np.argsort(-true_mean, kind="stable")
    for by, order in orderings.items():
        for end, picked in (("top", order[:n]), ("bottom", order[::-1][:n])):
            labels = [f"{pred_mean[i]:.2f}" + (f" / {true_mean[i]:.2f}" if true_mean is not None and np.isfinite(true_mean[i]) else "")
                      for i in picked]
            out[f"{end}_{by}"] = photo_grid([paths[i] for i in picked], labels, folder / f"{end}{n}_{by}.png", thumb)
    return out
