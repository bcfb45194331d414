"""Backbone features of training photos, computed once and kept on disk.

Features come from the scoring pipeline itself (:func:`photocritic.scoring.prepare_photo`, the same
decode, resize and normalisation a scored photo gets), so a head trained here sees at training time
exactly what it sees when it scores. They are stored float16, as the catalog stores them.

Layout: ``<cache>/<backbone>/<view>/chunk-NNNNNN.npy`` (features, one row per photo) beside
``chunk-NNNNNN.json`` (the keys of its rows, and the photos that could not be read, with why).
A key is the real path, size, modification time, backbone and view, so an edited file is computed
afresh. A chunk is written every ``chunk_size`` photos and renamed into place complete: an
interrupted extraction loses at most one chunk. Unreadable photos are cached too (their reason),
so a corrupt file is reported on every run without being decoded again.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from photocritic.imaging import PhotoError, decode_for_model
from photocritic.library.catalog import file_key
from photocritic.models.backbone import BACKBONES, build_backbone, load_backbone, model_input
from photocritic.scoring import PreparedPhoto, prepare_photo

VIEWS = ("global", "local")  # local: the centre crop of the working-size frame (double-column nets)
CACHE_VERSION = 1


def photo_key(path: str, backbone: str, view: str = "global") -> str:
    real = os.path.realpath(path)
    size, mtime_ns = file_key(real)
    return hashlib.sha1(f"v{CACHE_VERSION}|{real}|{size}|{mtime_ns}|{backbone}|{view}".encode()).hexdigest()


def centre_crop_input(path: str, size: int) -> np.ndarray:
    """The local view: a size x size crop from the middle of the working-size photo (no resize)."""
    pixels = decode_for_model(path).pixels
    height, width = pixels.shape[:2]
    if min(height, width) < size:
        return model_input(pixels, size)
    top, left = (height - size) // 2, (width - size) // 2
    return model_input(np.ascontiguousarray(pixels[top:top + size, left:left + size]), size)


def _prepare(path: str, backbone: str, view: str) -> tuple[np.ndarray | None, str | None]:
    """(model input, None) or (None, reason); never raises."""
    if view == "global":
        prepared: PreparedPhoto = prepare_photo(path, backbone=backbone)
        return prepared.model_input, prepared.row.error
    try:
        return centre_crop_input(path, BACKBONES[backbone].input_size), None
    except PhotoError as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot read file: {exc.strerror or exc}"


class FeatureCache:
    def __init__(self, folder: str | os.PathLike, backbone: str = "efficientnet-lite0", view: str = "global") -> None:
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}")
        self.backbone = backbone
        self.view = view
        self.folder = Path(folder) / backbone / view
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dim = BACKBONES[backbone].feature_dim
        self._index: dict[str, tuple[int, int]] = {}  # key -> (chunk number, row)
        self._errors: dict[str, str] = {}  # key -> reason
        self._chunks: dict[int, np.ndarray] = {}
        for index_file in sorted(self.folder.glob("chunk-*.json")):
            number = int(index_file.stem.split("-")[1])
            entry = json.loads(index_file.read_text(encoding="utf-8"))
            for row, key in enumerate(entry["keys"]):
                self._index[key] = (number, row)
            self._errors.update(entry["errors"])

    def __len__(self) -> int:
        return len(self._index)

    def _chunk(self, number: int) -> np.ndarray:
        if number not in self._chunks:
            self._chunks[number] = np.load(self.folder / f"chunk-{number:06d}.npy", mmap_mode="r")
        return self._chunks[number]

    def _write_chunk(self, keys: list[str], features: list[np.ndarray], errors: dict[str, str]) -> None:
        number = max((n for n, _ in self._index.values()), default=-1) + 1
        existing = sorted(int(p.stem.split("-")[1]) for p in self.folder.glob("chunk-*.json"))
        number = max(number, (existing[-1] + 1) if existing else 0)
        array = np.stack(features).astype(np.float16) if features else np.zeros((0, self.dim), np.float16)
        partial = self.folder / f"chunk-{number:06d}.npy.partial"
        with open(partial, "wb") as stream:
            np.save(stream, array)
        os.replace(partial, self.folder / f"chunk-{number:06d}.npy")
        partial_index = self.folder / f"chunk-{number:06d}.json.partial"
        partial_index.write_text(json.dumps({"keys": keys, "errors": errors}), encoding="utf-8")
        os.replace(partial_index, self.folder / f"chunk-{number:06d}.json")  # the index last: the chunk is complete
        for row, key in enumerate(keys):
            self._index[key] = (number, row)
        self._errors.update(errors)

    def extract(self, paths: Sequence[str], *, batch_size: int = 16, workers: int = 2, chunk_size: int = 512,
                device: str = "cpu", progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, dict[int, str]]:
        """Features (n x dim float32) for ``paths`` and {row: reason} for photos that could not be read
        (their rows are NaN). Photos already cached are not decoded again."""
        keys: list[str | None] = []
        errors: dict[int, str] = {}
        for i, path in enumerate(paths):
            try:
                keys.append(photo_key(path, self.backbone, self.view))
            except OSError as exc:
                keys.append(None)
                errors[i] = f"cannot read file: {exc.strerror or exc}"
        todo = [i for i, k in enumerate(keys) if k is not None and k not in self._index and k not in self._errors]
        if todo:
            self._compute([paths[i] for i in todo], [keys[i] for i in todo], batch_size, workers, chunk_size, device,
                          progress, len(paths) - len(todo), len(paths))
        elif progress:
            progress(len(paths), len(paths))
        features = np.full((len(paths), self.dim), np.nan, dtype=np.float32)
        by_chunk: dict[int, list[tuple[int, int]]] = {}
        for i, key in enumerate(keys):
            if key is None:
                continue
            if key in self._errors:
                errors[i] = self._errors[key]
            else:
                number, row = self._index[key]
                by_chunk.setdefault(number, []).append((i, row))
        for number, pairs in by_chunk.items():
            targets, rows = zip(*pairs)
            features[list(targets)] = self._chunk(number)[list(rows)].astype(np.float32)
        return features, errors

    def _compute(self, paths, keys, batch_size, workers, chunk_size, device, progress, done, total) -> None:
        if device == "cpu":
            backbone = load_backbone(self.backbone)
        else:
            backbone = build_backbone(self.backbone).eval().to(device)
        chunk_keys: list[str] = []
        chunk_features: list[np.ndarray] = []
        chunk_errors: dict[str, str] = {}
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="features") as pool:
            for start in range(0, len(paths), batch_size):
                batch_paths, batch_keys = paths[start:start + batch_size], keys[start:start + batch_size]
                prepared = list(pool.map(lambda p: _prepare(p, self.backbone, self.view), batch_paths))
                good = [(k, x) for k, (x, err) in zip(batch_keys, prepared) if err is None]
                for key, (_, err) in zip(batch_keys, prepared):
                    if err is not None:
                        chunk_errors[key] = err
                if good:
                    with torch.inference_mode():
                        batch = torch.from_numpy(np.stack([x for _, x in good])).to(device)
                        out = backbone(batch).float().cpu().numpy()
                    chunk_keys += [k for k, _ in good]
                    chunk_features += list(out)
                done += len(batch_paths)
                if progress:
                    progress(done, total)
                if len(chunk_keys) + len(chunk_errors) >= chunk_size:
                    self._write_chunk(chunk_keys, chunk_features, chunk_errors)
                    chunk_keys, chunk_features, chunk_errors = [], [], {}
        if chunk_keys or chunk_errors:
            self._write_chunk(chunk_keys, chunk_features, chunk_errors)
