"""What the default model learns from: every job's backbone features, measures and teacher output.

A *job* is one picture the model is shown: a photo as it is, or a copy of it (a crop, a re-encode, a
damage, a greyscale conversion, an obvious failure), made by a function that returns its working
pixels (long side 512, as :func:`photocritic.imaging.decode.decode_for_model` gives them). Every job
gets exactly what scoring computes for a photo:

``mlsp``       the backbone's 2048 MLSP features through the same ONNX graph scoring runs, rounded to
               float16 as the catalog stores them;
``technical``  the technical measures of :data:`TECHNICAL_MEASURES`;
``teacher``    ``nima-ava``'s 10-bin distribution, run as ``photocritic score --model nima-ava`` runs it
               (the whole frame squashed to 224 px with nearest neighbours).

Jobs are computed in chunks, each saved as soon as it is done (an interrupted build resumes where it
stopped), keyed by the jobs' names and the versions of everything that shaped them.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from photocritic.engine.networks import Network
from photocritic.imaging.decode import PIXELS_VERSION
from photocritic.models.backbone import model_input
from photocritic.models.technical import TECHNICAL_MEASURES, TECHNICAL_VERSION, measures_vector, technical_measures
from photocritic.models.zoo import load_model
from photocritic.scoring import backbone_network

#: raised when what a job's features are made of changes, so cached chunks are recomputed
FEATURES_VERSION = 1
CHUNK = 256


@dataclass(frozen=True)
class Job:
    """One picture shown to the model: *key* names it uniquely (and keys its cache);
    ``pixels()`` makes its working pixels."""

    key: str
    pixels: Callable[[], np.ndarray]
    teach: bool = True  # run the teacher on it (its output is NaN otherwise)


@dataclass
class Features:
    keys: list[str]
    mlsp: np.ndarray  # N x 2048 float16
    technical: np.ndarray  # N x len(TECHNICAL_MEASURES) float32
    teacher: np.ndarray  # N x 10 float32, nima-ava's distribution

    def rows(self, keys: Sequence[str]) -> np.ndarray:
        index = {k: i for i, k in enumerate(self.keys)}
        return np.array([index[k] for k in keys], dtype=np.int64)


def _chunk_file(cache_dir: Path, keys: list[str]) -> Path:
    spec = {"version": FEATURES_VERSION, "pixels": PIXELS_VERSION, "measures": [TECHNICAL_VERSION, list(TECHNICAL_MEASURES)],
            "keys": keys}
    digest = hashlib.sha256(json.dumps(spec).encode()).hexdigest()[:24]
    return cache_dir / f"{digest}.npz"


def _prepare(job: Job, teacher_input) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pixels = job.pixels()
    return measures_vector(technical_measures(pixels)), model_input(pixels), teacher_input(pixels) if job.teach else None


def extract(jobs: Sequence[Job], cache_dir: str | os.PathLike, *, label: str = "jobs", workers: int = 2, log=print,
            cached_only: bool = False) -> Features:
    """Features of every job (see the module docstring), from the cache where it has them.
    *cached_only*: compute nothing; jobs not in the cache get NaN measures (for trial runs)."""
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    n = len(jobs)
    out = Features([j.key for j in jobs], np.zeros((n, 2048), np.float16),
                   np.zeros((n, len(TECHNICAL_MEASURES)), np.float32), np.zeros((n, 10), np.float32))
    chunks = [list(range(i, min(n, i + CHUNK))) for i in range(0, n, CHUNK)]
    todo = []
    for rows in chunks:
        path = _chunk_file(cache, [jobs[r].key for r in rows])
        if path.is_file():
            with np.load(path) as saved:
                out.mlsp[rows], out.technical[rows], out.teacher[rows] = saved["mlsp"], saved["technical"], saved["teacher"]
        else:
            todo.append((rows, path))
    log(f"{label}: {n} jobs, {n - sum(len(r) for r, _ in todo)} cached, {sum(len(r) for r, _ in todo)} to compute")
    if cached_only:
        for rows, _ in todo:
            out.technical[rows] = np.nan
        todo = []
    if not todo:
        return out
    backbone = backbone_network("efficientnet-lite0")
    nima = load_model("nima-ava")
    teacher = Network(nima.network_graph)
    started, done = time.time(), 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for rows, path in todo:
            prepared = list(pool.map(lambda r: _prepare(jobs[r], nima.network_input), rows))
            technical = np.stack([p[0] for p in prepared])
            mlsp = np.concatenate([backbone(np.stack([p[1] for p in prepared[i:i + 32]])) for i in range(0, len(rows), 32)])
            taught = np.full((len(rows), 10), np.nan, np.float32)
            teach = [k for k, p in enumerate(prepared) if p[2] is not None]
            for i in range(0, len(teach), 32):
                part = teacher(np.stack([prepared[k][2] for k in teach[i:i + 32]]))
                taught[teach[i:i + 32]] = part / part.sum(axis=1, keepdims=True)
            out.mlsp[rows], out.technical[rows], out.teacher[rows] = mlsp.astype(np.float16), technical, taught
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, mlsp=out.mlsp[rows], technical=technical, teacher=out.teacher[rows])
            os.replace(tmp, path)
            done += len(rows)
            rate = (time.time() - started) / done
            left = sum(len(r) for r, _ in todo) - done
            log(f"{label}: {done} computed, {rate * 1000:.0f} ms/job, ~{rate * left / 60:.1f} min left")
    return out
