"""BIQ2021: 12,000 photos, each with the mean opinion score of 30 observers in a lab.

Ahmed et al., "BIQ2021: a large-scale blind image quality assessment database", Journal of Electronic
Imaging 31(5), 2022; https://github.com/nisarahmedrana/BIQ2021 (no licence file; ``ss03`` are Unsplash
photos under the Unsplash licence). Photos are 512 px; the opinion score (1-5 in the lab) is given as
0-1. Official split: 10,000 train, 2,000 test. Subsets: ``ss01`` one person's everyday photos, 2007-2020,
many series of one scene; ``ss02`` photos shot with missed focus, motion blur, ISO 50-3200 on purpose;
``ss03`` 8,000 Unsplash photos.

The default is fitted on the train split only. Its folds (:func:`assign_folds`) keep each run of
consecutively numbered ``ss01``/``ss02`` photos (a series of one scene) in one fold.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photocritic.imaging.decode import decode_for_model
from photocritic.training.default.features import Job

SPLITS = {"train": "Train (Images and MOS).csv", "test": "Test (Images and MOS).csv"}
SUBSETS = ("ss01", "ss02", "ss03")
#: consecutively numbered ss01/ss02 photos in blocks of this many stay in one fold (series of one scene)
SERIES_BLOCK = 40
#: every GREY_EVERY-th train photo also gets a greyscale copy (a monochrome conversion is a choice)
GREY_EVERY = 4


@dataclass(frozen=True)
class Rated:
    name: str  # "ss01 (12).jpg"
    path: Path
    mos: float  # 0-1
    split: str  # "train" or "test"

    @property
    def subset(self) -> str:
        return self.name[:4]

    @property
    def number(self) -> int:
        match = re.search(r"\((\d+)\)", self.name)
        return int(match.group(1)) if match else 0

    @property
    def rating(self) -> float:
        """The opinion score on photocritic's 1-10 scale (0 -> 1, 1 -> 10)."""
        return 1.0 + 9.0 * self.mos


class DatasetError(Exception):
    """A BIQ2021 folder that is missing or not as published."""


def load(folder: str | os.PathLike, split: str) -> list[Rated]:
    """The rated photos of one split (``"train"`` or ``"test"``), in the CSV's order."""
    root = Path(folder)
    table = root / SPLITS[split]
    if not table.is_file():
        raise DatasetError(f"{root} is not a BIQ2021 checkout: {SPLITS[split]!r} is missing")
    # one file's extension is upper case on disk and lower case in the tables
    on_disk = {entry.name.lower(): Path(entry.path) for entry in os.scandir(root / "Images")} if (root / "Images").is_dir() else {}
    photos = []
    with table.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.reader(handle):
            if not row or not row[0].strip().lower().endswith((".jpg", ".jpeg", ".png")):
                continue
            path = on_disk.get(row[0].strip().lower())
            if path is None:
                raise DatasetError(f"{path} is listed in {SPLITS[split]!r} but missing")
            photos.append(Rated(row[0].strip(), path, float(row[1]), split))
    return photos


def assign_folds(photos: list[Rated], n_folds: int = 5) -> np.ndarray:
    """A fold per photo: blocks of :data:`SERIES_BLOCK` consecutive ss01/ss02 numbers together (a
    series shot one after another never straddles folds), ss03 photos by a hash of their name."""
    folds = np.empty(len(photos), dtype=np.int64)
    for i, photo in enumerate(photos):
        if photo.subset in ("ss01", "ss02"):
            key = f"{photo.subset}-{photo.number // SERIES_BLOCK}"
        else:
            key = photo.name
        folds[i] = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % n_folds
    return folds


def greyscale(pixels: np.ndarray) -> np.ndarray:
    """A monochrome conversion (Pillow's ITU-R 601 luma), as three equal channels."""
    return np.asarray(Image.fromarray(pixels).convert("L").convert("RGB"))


def has_grey_copy(photo: Rated) -> bool:
    return photo.split == "train" and int(hashlib.sha256(photo.name.encode()).hexdigest()[:8], 16) % GREY_EVERY == 0


def jobs(photos: list[Rated]) -> list[Job]:
    """Each photo as it is (key ``biq/NAME``) and, for a quarter of the train split, a greyscale copy
    (``biq/NAME/grey``)."""
    out = []
    for photo in photos:
        out.append(Job(f"biq/{photo.name}", lambda p=photo.path: decode_for_model(p).pixels))
        if has_grey_copy(photo):
            out.append(Job(f"biq/{photo.name}/grey", lambda p=photo.path: greyscale(decode_for_model(p).pixels)))
    return out
