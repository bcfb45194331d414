"""Fixtures for the training tests: small AVA-format datasets built from ../shared/data/photos.

Votes are invented (a fixed seed); photos are linked, never copied into the repository. One feature
cache serves the whole session, so the backbone sees each photo once.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _two_threads():
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def feature_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("feature-cache")


def invented_votes(n: int, seed: int = 0) -> np.ndarray:
    """(n, 10) vote counts around a per-photo mean drawn like AVA's (mean about 5.4, sd about 0.7)."""
    rng = np.random.default_rng(seed)
    ratings = np.arange(1, 11)
    counts = np.zeros((n, 10), dtype=np.int64)
    for i, mean in enumerate(rng.normal(5.4, 0.9, n)):
        p = np.exp(-((ratings - mean) ** 2) / (2 * 1.4**2))
        counts[i] = rng.multinomial(int(rng.integers(80, 250)), p / p.sum())
    return counts


def build_ava_dataset(folder: Path, photos: list[Path], corrupt: int = 1, missing: int = 1, seed: int = 0) -> dict:
    """AVA.txt, images/<id>.jpg (symlinks), an official-style test list; plus corrupt and missing images."""
    images = folder / "images"
    images.mkdir(parents=True)
    n = len(photos) + corrupt + missing
    counts = invented_votes(n, seed)
    lines, ids = [], []
    for i in range(n):
        image_id = 1000 + i
        ids.append(image_id)
        lines.append(" ".join(str(v) for v in [i + 1, image_id, *counts[i], 0, 0, 1]))
        if i < len(photos):
            os.symlink(photos[i], images / f"{image_id}.jpg")
        elif i < len(photos) + corrupt:
            (images / f"{image_id}.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
        # the rest: missing on purpose
    (folder / "AVA.txt").write_text("\n".join(lines) + "\n")
    test_ids = ids[: max(4, len(photos) // 4)]
    (folder / "generic_test.jpgl").write_text("\n".join(map(str, test_ids)) + "\n")
    (folder / "generic_ls_train.jpgl").write_text("\n".join(map(str, ids[len(test_ids):])) + "\n")
    return {"ava": folder / "AVA.txt", "images": images, "test_list": folder / "generic_test.jpgl",
            "train_list": folder / "generic_ls_train.jpgl", "counts": counts, "ids": ids,
            "corrupt_ids": ids[len(photos):len(photos) + corrupt], "missing_ids": ids[len(photos) + corrupt:]}


@pytest.fixture(scope="session")
def shared_photos(shared_data) -> list[Path]:
    return sorted(p for p in (shared_data / "photos").iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))


@pytest.fixture(scope="session")
def small_ava(tmp_path_factory, shared_photos) -> dict:
    return build_ava_dataset(tmp_path_factory.mktemp("ava"), shared_photos[:28])
