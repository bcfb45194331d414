"""The project's own photos (``../shared/data``): curated photographs, everyday snapshots, and the
copies of each that teach the damage ranking and the failure tails, and check the biases.

Every photo becomes several jobs (:class:`SharedJob`), each shown to the model as its own picture:

``pristine``   the photo fed the same way for both classes: snapshots are first re-encoded like the
               curated set (long side at most 1280 px, JPEG quality 90), then decoded by the scoring
               pipeline's own :func:`decode_for_model`;
``original``   a snapshot file as the scoring pipeline reads it (for curated photos, the pristine row);
``damaged``    the pristine working pixels after one damage at one strength (:mod:`..degradations`);
               each photo gets :data:`DAMAGES_PER_PHOTO` types (balanced over the photos) at 3 strengths;
``crop``       a seeded crop (55-85% of each side) of the photo at 1280 px, brought to the working size;
``failure``    an obvious failure made from the pristine pixels (black, blown white, flat, ...);
``grey``       a monochrome conversion of the pristine pixels (a choice, not damage: a bias check).

Folds: one whole curated source per fold, snapshots spread over the folds by camera make.
"""
from __future__ import annotations

import csv
import functools
import io
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from photocritic.imaging.decode import WORKING_LONG_SIDE, decode_for_model
from photocritic.training.default.biq2021 import greyscale
from photocritic.training.default.features import Job
from photocritic.training.degradations import DAMAGES, FAILURES, damage_at, make_failure, seed_for

NORMALISED_LONG_SIDE = 1280
NORMALISED_QUALITY = 90
#: a monochrome conversion is a choice: desaturation is not one of the damages the score is taught
TAUGHT_DAMAGES = tuple(d for d in DAMAGES if d != "desaturation")
DAMAGES_PER_PHOTO = 2
#: photos this small on the short side are not judged (see photocritic.models.flags), nor learned from
MIN_SIDE = 65


@dataclass(frozen=True)
class Photo:
    key: str  # "professional/<file>" or "photos/<file>"
    path: Path
    professional: bool
    group: str  # the curated source, or "make:<first word of the file name>" for snapshots
    width: int  # of the file on disk, after EXIF orientation
    height: int


@dataclass(frozen=True)
class SharedJob:
    photo: int  # index into the photo list
    kind: str  # pristine, original, damaged, crop, failure, grey
    damage: str = ""  # the damage, the failure's kind, or "crop<k>"
    strength: int = -1  # 0 mild, 1 moderate, 2 strong


def list_photos(data_dir: str | os.PathLike) -> list[Photo]:
    """Curated photos (group = their source) and snapshots (group = camera make), sorted; photos too
    small to judge are left out."""
    data_dir = Path(data_dir)
    photos: list[Photo] = []
    with (data_dir / "professional" / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle, delimiter="\t"), key=lambda r: r["file"])
    for row in rows:
        path = data_dir / "professional" / row["file"]
        if not path.is_file():  # a few sources were PNG/WebP; the files here are all JPEG
            path = path.with_suffix(".jpg")
        if path.is_file():
            photos.append(Photo(f"professional/{path.name}", path, True, row["source"], *_oriented_size(path)))
    for path in sorted(p for p in (data_dir / "photos").iterdir() if p.suffix.lower() in (".jpg", ".jpeg")):
        photos.append(Photo(f"photos/{path.name}", path, False, f"make:{path.stem.split()[0].lower()}", *_oriented_size(path)))
    return [p for p in photos if min(p.width, p.height) >= MIN_SIDE]


def _oriented_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        w, h = image.size
        orientation = image.getexif().get(0x0112, 1)
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def assign_folds(photos: list[Photo]) -> np.ndarray:
    """Fold per photo: one whole curated source per fold; snapshot makes spread greedily."""
    sources = sorted({p.group for p in photos if p.professional})
    n_folds = max(2, len(sources))
    folds = np.zeros(len(photos), dtype=np.int64)
    load = np.zeros(n_folds)
    fold_of_make = {}
    for make, count in sorted(Counter(p.group for p in photos if not p.professional).items(), key=lambda kv: (-kv[1], kv[0])):
        fold_of_make[make] = int(np.argmin(load))
        load[fold_of_make[make]] += count
    for i, p in enumerate(photos):
        folds[i] = sources.index(p.group) if p.professional else fold_of_make[p.group]
    return folds


def plan_jobs(photos: list[Photo], seed: int = 0) -> list[SharedJob]:
    order = np.random.default_rng(seed).permutation(len(photos))
    rank = np.empty(len(photos), dtype=np.int64)
    rank[order] = np.arange(len(photos))
    jobs: list[SharedJob] = []
    for i, photo in enumerate(photos):
        jobs.append(SharedJob(i, "pristine"))
        if not photo.professional:
            jobs.append(SharedJob(i, "original"))
        for j in range(DAMAGES_PER_PHOTO):
            damage = TAUGHT_DAMAGES[(int(rank[i]) * DAMAGES_PER_PHOTO + j) % len(TAUGHT_DAMAGES)]
            jobs += [SharedJob(i, "damaged", damage, s) for s in range(3)]
        jobs.append(SharedJob(i, "crop", "crop0"))
        jobs.append(SharedJob(i, "failure", FAILURES[int(rank[i]) % len(FAILURES)]))
        jobs.append(SharedJob(i, "grey"))
    return jobs


def _jpeg_roundtrip(pixels: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    with tempfile.NamedTemporaryFile(suffix=".jpg", delete=False) as handle:  # the decoder takes a path
        handle.write(buffer.getvalue())
    try:
        return decode_for_model(handle.name).pixels
    finally:
        os.unlink(handle.name)


@functools.lru_cache(maxsize=64)  # a photo's jobs are made one after another: decode it once
def pristine_pixels(photo: Photo) -> np.ndarray:
    if photo.professional:  # already at most 1280 px, quality 90
        return decode_for_model(photo.path).pixels
    return _jpeg_roundtrip(decode_for_model(photo.path, long_side=NORMALISED_LONG_SIDE).pixels, NORMALISED_QUALITY)


def crop_pixels(photo: Photo, name: str) -> np.ndarray:
    """A seeded crop of the photo (at most 1280 px) resized to the working size."""
    full = Image.fromarray(decode_for_model(photo.path, long_side=NORMALISED_LONG_SIDE).pixels)
    rng = np.random.default_rng(seed_for(photo.key, name))
    fw, fh = rng.uniform(0.55, 0.85, size=2)
    cw, ch = max(1, round(full.width * fw)), max(1, round(full.height * fh))
    x0, y0 = int(rng.integers(0, full.width - cw + 1)), int(rng.integers(0, full.height - ch + 1))
    crop = full.crop((x0, y0, x0 + cw, y0 + ch))
    scale = min(1.0, WORKING_LONG_SIDE / max(crop.size))
    if scale < 1.0:
        crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.Resampling.LANCZOS)
    return np.asarray(crop, dtype=np.uint8).copy()


def job_pixels(photo: Photo, job: SharedJob) -> np.ndarray:
    if job.kind == "original":
        return decode_for_model(photo.path).pixels
    if job.kind == "crop":
        return crop_pixels(photo, job.damage)
    pristine = pristine_pixels(photo)
    if job.kind == "pristine":
        return pristine
    if job.kind == "damaged":
        return damage_at(pristine, job.damage, job.strength, seed_for(photo.key, job.damage, job.strength))
    if job.kind == "failure":
        return make_failure(pristine, job.damage, seed_for(photo.key, "failure", job.damage))
    if job.kind == "grey":
        return greyscale(pristine)
    raise ValueError(job.kind)


def job_key(photo: Photo, job: SharedJob) -> str:
    return "/".join(str(part) for part in (photo.key, job.kind, job.damage, job.strength))


def feature_jobs(photos: list[Photo], jobs: list[SharedJob]) -> list[Job]:
    """The jobs as :func:`photocritic.training.default.features.extract` takes them; the teacher runs on
    the photos as they are, their crops and their greyscale copies (its output on damage is not used)."""
    return [Job(job_key(photos[j.photo], j), lambda p=photos[j.photo], j=j: job_pixels(p, j),
                teach=j.kind in ("pristine", "original", "crop", "grey")) for j in jobs]
